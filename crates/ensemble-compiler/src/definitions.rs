//! The session's named definitions, as the checker sees them.

use std::collections::BTreeMap;

use ensemble_syntax::{Expr, SetExpr};

use crate::types::ValueType;

/// Named fields and segments defined so far.
#[derive(Debug, Clone, Default)]
pub struct Definitions {
    /// `field name = expr`.
    pub fields: BTreeMap<String, Expr>,
    /// `segment name = set-expr`.
    pub segments: BTreeMap<String, SetExpr>,
    /// The type of each field as found when it was checked: checking a new definition reads
    /// it instead of expanding the field again, so that checking a script is linear in its
    /// size. A field missing here is expanded.
    pub field_types: BTreeMap<String, ValueType>,
}

impl Definitions {
    /// Whether `name` is defined, as a field or a segment.
    pub fn contains(&self, name: &str) -> bool {
        self.fields.contains_key(name) || self.segments.contains_key(name)
    }

    /// Adds or replaces a field of type `ty`. Replacing one forgets every known field type
    /// (fields using it may change type); they are found again by expansion.
    pub fn define_field(&mut self, name: &str, expr: Expr, ty: ValueType) {
        if self.contains(name) {
            self.field_types.clear();
        }
        self.segments.remove(name);
        self.fields.insert(name.to_string(), expr);
        self.field_types.insert(name.to_string(), ty);
    }

    /// Adds or replaces a segment.
    pub fn define_segment(&mut self, name: &str, expr: SetExpr) {
        if self.fields.remove(name).is_some() {
            self.field_types.clear();
        }
        self.segments.insert(name.to_string(), expr);
    }
}
