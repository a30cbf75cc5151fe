//! The session's named definitions, as the checker sees them.

use std::collections::BTreeMap;

use ensemble_syntax::{Expr, SetExpr};

/// Named fields and segments defined so far.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    /// `field name = expr`.
    pub fields: BTreeMap<String, Expr>,
    /// `segment name = set-expr`.
    pub segments: BTreeMap<String, SetExpr>,
}
