//! TLS for both protocols from one PEM certificate chain and key. A certificate that cannot
//! be used stops the server from starting: it never falls back to plaintext.

use std::sync::Arc;

use datafusion_postgres::pgwire::tokio::tokio_rustls::rustls;
use datafusion_postgres::pgwire::tokio::TlsAcceptor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tonic::transport::{Identity, ServerTlsConfig};

use crate::config::TlsFiles;
use crate::error::ServeError;

/// A certificate chain and key, read once.
pub(crate) struct Certificate {
    chain: Vec<u8>,
    key: Vec<u8>,
}

impl Certificate {
    /// Reads both files; a missing or empty one is an error.
    pub(crate) fn read(files: &TlsFiles) -> Result<Certificate, ServeError> {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| ServeError::Tls(format!("{}: {e}", path.display())))
        };
        Ok(Certificate {
            chain: read(&files.certificate)?,
            key: read(&files.key)?,
        })
    }

    /// The Postgres protocol's acceptor (ALPN `postgresql`, so direct TLS works too).
    pub(crate) fn pg_acceptor(&self) -> Result<TlsAcceptor, ServeError> {
        let chain = CertificateDer::pem_slice_iter(&self.chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ServeError::Tls(format!("the certificate: {e}")))?;
        if chain.is_empty() {
            return Err(ServeError::Tls(
                "the certificate file holds no certificate".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key)
            .map_err(|e| ServeError::Tls(format!("the key: {e}")))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ServeError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| ServeError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Flight SQL's (tonic) configuration.
    pub(crate) fn flight_config(&self) -> ServerTlsConfig {
        ServerTlsConfig::new().identity(Identity::from_pem(&self.chain, &self.key))
    }
}
