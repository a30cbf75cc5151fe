//! Aggregates over a related table: one column of the features table each.

use super::*;

impl<'a> CriterionLowerer<'a> {
    pub(super) fn aggregate(
        &mut self,
        aggregate: &Aggregate,
        span: Span,
        scope: Scope<'_>,
    ) -> Result<Lowered, CheckError> {
        if let Scope::Related(table) = scope {
            return Err(CheckError::new(
                CheckErrorKind::Unsupported,
                format!(
                    "an aggregate cannot be nested inside a filter on {}",
                    table.name
                ),
                span,
            ));
        }
        let table = self.related_table(&aggregate.table)?;
        let func = aggregate.func;
        let (column_name, ty) = aggregate_type(aggregate, table, span)?;
        let mut conditions = Vec::new();
        if let Some(filter) = &aggregate.filter {
            let lowered = self.lower(filter, Scope::Related(table))?;
            expect_boolean(&lowered, filter, "'where'")?;
            conditions.push(lowered.expr);
        }
        if let Some(window) = &aggregate.window {
            let Some(time) = &table.time else {
                return Err(CheckError::new(
                    CheckErrorKind::NoTimeColumn,
                    format!("table {} has no time column for 'within'", table.name),
                    span,
                )
                .with_help(format!(
                    "set `time = \"…\"` under [tables.{}] in the catalog",
                    table.name
                )));
            };
            let start = self.date_before(window, span)?;
            conditions.push(self.time_window(table, time, start, span)?);
        }
        let filter = conditions.into_iter().reduce(Value::and);
        let name = canonical_aggregate(aggregate);
        self.needs
            .aggregates
            .entry(name.clone())
            .or_insert_with(|| AggregateSpec {
                name: name.clone(),
                table: table.name.clone(),
                func,
                column: column_name,
                filter,
            });
        Ok(Lowered {
            expr: ident(name),
            ty,
        })
    }

    pub(super) fn related_table(&self, name: &Ident) -> Result<&'a RelatedSchema, CheckError> {
        if name.name == self.catalog.universe.table {
            return Err(CheckError::new(
                CheckErrorKind::NotRelated,
                format!(
                    "{} is the universe: its columns are used directly, without aggregate",
                    name.name
                ),
                name.span,
            ));
        }
        let Some(table) = self.catalog.related.get(&name.name) else {
            return Err(unknown_table(self.catalog, name));
        };
        if table.key.is_none() {
            return Err(CheckError::new(
                CheckErrorKind::NotRelated,
                format!("table {} does not reference the universe", table.name),
                name.span,
            )
            .with_help(format!(
                "set `key = \"…\"` under [tables.{}] in the catalog to the column holding {}",
                table.name, self.catalog.universe.key
            )));
        }
        Ok(table)
    }
}

/// The canonical text of an aggregate: the column name of its value in the features table.
pub fn canonical_aggregate(aggregate: &Aggregate) -> String {
    aggregate.to_string()
}

/// The aggregated column and the aggregate's type: `count` alone counts rows, `sum` and
/// `avg` need numbers, `avg` of whole numbers is a float.
fn aggregate_type(
    aggregate: &Aggregate,
    table: &RelatedSchema,
    span: Span,
) -> Result<(Option<String>, ValueType), CheckError> {
    let func = aggregate.func;
    Ok(match &aggregate.column {
        None if matches!(func, AggFunc::Count) => (None, ValueType::Integer),
        None => {
            return Err(CheckError::new(
                CheckErrorKind::Type,
                format!(
                    "{} needs a column, for example {}({}.amount)",
                    func.name(),
                    func.name(),
                    table.name
                ),
                span,
            ))
        }
        Some(column) => {
            let value = related_column(table, &column.name, column.span)?;
            let ty = match func {
                AggFunc::Count | AggFunc::CountDistinct => ValueType::Integer,
                AggFunc::Sum | AggFunc::Avg => {
                    if !value.ty.is_numeric() {
                        return Err(CheckError::new(
                            CheckErrorKind::Type,
                            format!(
                                "cannot {} {} column {}.{}",
                                func.name(),
                                value.ty,
                                table.name,
                                column.name
                            ),
                            column.span,
                        ));
                    }
                    if func == AggFunc::Avg && value.ty == ValueType::Integer {
                        ValueType::Float
                    } else {
                        value.ty
                    }
                }
                _ => value.ty,
            };
            (Some(column.name.clone()), ty)
        }
    })
}

impl CriterionLowerer<'_> {
    /// The rows of `table` whose `time` is in the window after `start`, up to the as-of
    /// date (calendar days): raw timestamps compared with day boundaries where the type
    /// allows (see [`crate::days`]), else dates.
    fn time_window(
        &self,
        table: &RelatedSchema,
        time: &str,
        start: NaiveDate,
        span: Span,
    ) -> Result<Value, CheckError> {
        let data_type = table.schema.field_with_name(time).map(|f| f.data_type());
        let bounds = data_type.ok().and_then(|t| {
            let after = crate::days::start_of_next_day(t, start)?;
            let before = crate::days::start_of_next_day(t, self.as_of)?;
            Some((after, before))
        });
        if let Some((after, before)) = bounds {
            let column = ident(time);
            return Ok(column.clone().gt_eq(lit(after)).and(column.lt(lit(before))));
        }
        let time_value = related_column(table, time, span)?;
        Ok(self.window_test(time_value.expr, start))
    }
}
