//! Names in criteria: universe columns, fields (expanded once, bounded in size and depth),
//! qualified columns, and the errors when a name does not resolve.

use super::*;

impl<'a> CriterionLowerer<'a> {
    pub(super) fn name(&mut self, name: &Ident, scope: Scope<'_>) -> Result<Lowered, CheckError> {
        match scope {
            Scope::Related(table) => related_column(table, &name.name, name.span).map_err(|error| {
                let universe = &self.catalog.universe;
                let is_member_value = universe.schema.field_with_name(&name.name).is_ok()
                    || self.definitions.fields.contains_key(&name.name);
                if is_member_value {
                    error.with_help(format!(
                        "'{}' belongs to the member, not to {}: close the aggregate first, as in (has {} where …) and {} …",
                        name.name, table.name, table.name, name.name
                    ))
                } else {
                    error
                }
            }),
            Scope::Member => {
                if let Some(start) = self.stack.iter().position(|n| *n == name.name) {
                    return Err(cycle_error(&self.stack[start..], &name.name, name.span));
                }
                if let Some(field) = self.definitions.fields.get(&name.name) {
                    if self.check_only {
                        if let Some(ty) = self.definitions.field_types.get(&name.name) {
                            return Ok(placeholder(*ty));
                        }
                    }
                    return self.field(&name.name, field, name.span);
                }
                let universe = &self.catalog.universe;
                if let Ok(field) = universe.schema.field_with_name(&name.name) {
                    let lowered = column_value(field, &name.name, name.span)?;
                    self.needs.columns.insert(name.name.clone());
                    return Ok(lowered);
                }
                if self.definitions.segments.contains_key(&name.name) {
                    return Err(CheckError::new(
                        CheckErrorKind::Type,
                        format!("'{}' is a segment, not a value", name.name),
                        name.span,
                    )
                    .with_help("segments are combined outside brackets: vip ∩ [criterion]"));
                }
                let candidates = universe
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .chain(self.definitions.fields.keys().map(String::as_str));
                let error = CheckError::new(
                    CheckErrorKind::UnknownName,
                    format!(
                        "unknown column or field '{}' (not a column of {} nor a field)",
                        name.name, universe.table
                    ),
                    name.span,
                );
                Err(match suggest(&name.name, candidates) {
                    Some(close) => error.with_suggestion(Some(close)),
                    // `[city = Paris]`: a text value written without quotes.
                    None => error.with_help(format!(
                        "if '{0}' is a text value, write it in quotes: '{0}'",
                        name.name
                    )),
                })
            }
        }
    }

    /// Lowers a field once per lowerer: later uses reuse the result (and what it needs), so
    /// a field used twice by another is not expanded twice.
    pub(super) fn field(
        &mut self,
        name: &str,
        body: &Expr,
        span: Span,
    ) -> Result<Lowered, CheckError> {
        if let Some((lowered, needs)) = self.field_memo.get(name) {
            let lowered = lowered.clone();
            self.needs.extend(needs);
            self.needs
                .fields
                .insert(name.to_string(), lowered.expr.clone());
            return Ok(lowered);
        }
        if let Some(start) = self.stack.iter().position(|n| n == name) {
            return Err(cycle_error(&self.stack[start..], name, span));
        }
        self.stack.push(name.to_string());
        let outer_needs = std::mem::take(&mut self.needs);
        let lowered = self.lower(body, Scope::Member).and_then(|lowered| {
            if depth(&lowered.expr) > MAX_EXPANDED_DEPTH {
                return Err(CheckError::new(
                    CheckErrorKind::TooLarge,
                    format!(
                        "field '{name}' nests more than {MAX_EXPANDED_DEPTH} levels once the fields it uses are written out"
                    ),
                    body.span,
                )
                .with_help("a chain of fields each built on the previous one nests one level per field: shorten the chain"));
            }
            let nodes = count_nodes(&lowered.expr);
            if nodes > MAX_EXPANDED_NODES {
                return Err(CheckError::new(
                    CheckErrorKind::TooLarge,
                    format!(
                        "field '{name}' expands to more than {} operations once the fields it uses are written out",
                        MAX_EXPANDED_NODES
                    ),
                    body.span,
                )
                .with_help("a field that uses another field twice doubles in size: compute the repeated part once, or simplify"));
            }
            Ok(lowered)
        });
        let field_needs = std::mem::replace(&mut self.needs, outer_needs);
        self.stack.pop();
        let lowered = lowered.map_err(|mut error| {
            error.definition.get_or_insert_with(|| name.to_string());
            error
        })?;
        self.needs.extend(&field_needs);
        self.needs
            .fields
            .insert(name.to_string(), lowered.expr.clone());
        self.field_memo
            .insert(name.to_string(), (lowered.clone(), field_needs));
        Ok(lowered)
    }

    pub(super) fn qualified(
        &mut self,
        table: &Ident,
        column: &Ident,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        if let Scope::Related(related) = scope {
            if table.name == related.name {
                return related_column(related, &column.name, column.span);
            }
            return Err(CheckError::new(
                CheckErrorKind::UnknownColumn,
                format!(
                    "inside an aggregate over {}, only its own columns are available",
                    related.name
                ),
                table.span,
            ));
        }
        if let Some(score) = self.definitions.scores.get(&table.name) {
            return self.score_field(&table.name, score, column);
        }
        let universe = &self.catalog.universe;
        if table.name == universe.table {
            let Ok(field) = universe.schema.field_with_name(&column.name) else {
                return Err(unknown_column(&universe.table, &universe.schema, column));
            };
            let lowered = column_value(field, &column.name, column.span)?;
            self.needs.columns.insert(column.name.clone());
            return Ok(lowered);
        }
        if let Some(related) = self.catalog.related.get(&table.name) {
            related_column(related, &column.name, column.span)?;
            return Err(CheckError::new(
                CheckErrorKind::Type,
                format!(
                    "{}.{} has many values per member: aggregate it",
                    table.name, column.name
                ),
                table.span.to(column.span),
            )
            .with_help(format!(
                "for example sum({0}.{1}), max({0}.{1}) or last({0}.{1})",
                table.name, column.name
            )));
        }
        let mut error = unknown_table(self.catalog, table);
        if error.help.is_none() {
            let scores = self.definitions.scores.keys().map(String::as_str);
            error = error.with_suggestion(suggest(&table.name, scores));
        }
        if !self.definitions.scores.is_empty() || error.help.is_none() {
            error.message = format!("unknown table or score '{}'", table.name);
        }
        Err(error)
    }
}

/// A universe or related column as a value: timestamps are read as their calendar date.
pub(super) fn column_value(field: &Field, name: &str, span: Span) -> Result<Lowered, CheckError> {
    let Some(ty) = ValueType::of_arrow(field.data_type()) else {
        return Err(CheckError::new(
            CheckErrorKind::Type,
            format!(
                "column {name} has type {}, which criteria cannot use",
                field.data_type()
            ),
            span,
        ));
    };
    let column = ident(name);
    let expr = match field.data_type() {
        DataType::Timestamp(_, _) | DataType::Date64 => cast(column, DataType::Date32),
        _ => column,
    };
    Ok(Lowered { expr, ty })
}

pub(super) fn related_column(
    table: &RelatedSchema,
    column: &str,
    span: Span,
) -> Result<Lowered, CheckError> {
    match table.schema.field_with_name(column) {
        Ok(field) => column_value(field, column, span),
        Err(_) => Err(unknown_column(
            &table.name,
            &table.schema,
            &Ident {
                name: column.to_string(),
                span,
            },
        )),
    }
}

pub(super) fn unknown_column(
    table: &str,
    schema: &datafusion::arrow::datatypes::Schema,
    column: &Ident,
) -> CheckError {
    let candidates = schema.fields().iter().map(|f| f.name().as_str());
    CheckError::new(
        CheckErrorKind::UnknownColumn,
        format!("unknown column '{table}.{}'", column.name),
        column.span,
    )
    .with_suggestion(suggest(&column.name, candidates).map(|c| format!("{table}.{c}")))
}

pub(super) fn unknown_table(catalog: &CatalogSchema, table: &Ident) -> CheckError {
    CheckError::new(
        CheckErrorKind::UnknownTable,
        format!("unknown table '{}'", table.name),
        table.span,
    )
    .with_suggestion(suggest(&table.name, catalog.table_names()))
}

pub(crate) fn cycle_error(path: &[String], back_to: &str, span: Span) -> CheckError {
    let mut names: Vec<&str> = path.iter().map(String::as_str).collect();
    names.push(back_to);
    CheckError::new(
        CheckErrorKind::Cycle,
        format!("cycle: {}", names.join(" → ")),
        span,
    )
    .with_help("a definition cannot depend on itself")
}

/// A stand-in of a known type for a field that was checked when it was defined.
pub(super) fn placeholder(ty: ValueType) -> Lowered {
    let data_type = match ty {
        ValueType::Integer => DataType::Int64,
        ValueType::Decimal => DataType::Decimal128(38, 10),
        ValueType::Float => DataType::Float64,
        ValueType::String => DataType::Utf8,
        ValueType::Boolean => DataType::Boolean,
        ValueType::Date => DataType::Date32,
        ValueType::Null => DataType::Null,
    };
    Lowered {
        expr: lit(ScalarValue::try_from(&data_type).unwrap_or(ScalarValue::Null)),
        ty,
    }
}

/// Nodes of a lowered expression, counting stops past [`MAX_EXPANDED_NODES`].
pub(super) fn count_nodes(expr: &Value) -> usize {
    #[recursive::recursive]
    fn walk(expr: &Value, nodes: &mut usize) {
        *nodes += 1;
        for child in expr.children() {
            if *nodes > MAX_EXPANDED_NODES {
                return;
            }
            walk(child, nodes);
        }
    }
    let mut nodes = 0;
    walk(expr, &mut nodes);
    nodes
}

/// Levels of a lowered expression; stops descending past [`MAX_EXPANDED_DEPTH`], so a
/// deep tree costs no more than a shallow one of the same size.
pub(super) fn depth(expr: &Value) -> usize {
    #[recursive::recursive]
    fn walk(expr: &Value, level: usize) -> usize {
        if level > MAX_EXPANDED_DEPTH {
            return level;
        }
        expr.children()
            .into_iter()
            .map(|child| walk(child, level + 1))
            .fold(level, usize::max)
    }
    walk(expr, 1)
}
