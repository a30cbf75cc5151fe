//! `ensemble run`, `check` and `export`: a script, run or checked, its result written.

use std::path::Path;

use ensemble::{Evaluation, Outcome, ScriptRun, Session, SessionOptions};

use crate::cli::Input;
use crate::error::CliError;
use crate::output::{self, Format};
use crate::stdio::{err, errln, out};

/// Runs the script and returns the session and what it did (notes printed on standard
/// error).
async fn run_script(
    input: &Input,
    options: &SessionOptions,
    color: bool,
) -> Result<(Session, ScriptRun), CliError> {
    let mut session = input.session(options).await?;
    let run = run_in(&mut session, input, color).await?;
    Ok((session, run))
}

/// Runs the script of `input` in `session` (notes printed on standard error).
pub async fn run_in(
    session: &mut Session,
    input: &Input,
    color: bool,
) -> Result<ScriptRun, CliError> {
    let (text, origin) = input.read()?;
    let run = session
        .run_script(&text, &origin)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    for note in &run.notes {
        err!("{}", note.render(&text, &origin, color));
    }
    Ok(run)
}

/// `ensemble run`: the members of the last expression; the size of each expression when there
/// are several; the step tree (and a partition's tiers) with `--format table`.
pub async fn run(
    input: &Input,
    format: Format,
    output: Option<&Path>,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let (_, run) = run_script(input, options, color).await?;
    let mut reports = 0;
    for outcome in &run.outcomes {
        if let Outcome::Report(report) = outcome {
            out!("{report}");
            reports += 1;
        }
    }
    let Some(evaluation) = run.last_evaluation() else {
        if reports == 0 {
            errln!("nothing to evaluate: the script has no bare expression");
        }
        return Ok(());
    };
    let evaluations: Vec<&Evaluation> = run
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Evaluated(e) => Some(e.as_ref()),
            _ => None,
        })
        .collect();
    if evaluations.len() > 1 {
        for each in &evaluations {
            errln!(
                "{:>12}  {}",
                ensemble::group_thousands(each.count()),
                each.steps[each.root].text
            );
        }
    }
    if format == Format::Table {
        err!("{}", evaluation.tree());
        if let Some(partition) = evaluation.partition() {
            out!("{}", partition.table());
        }
        errln!(
            "{} members as of {} in {:.1?}",
            ensemble::group_thousands(evaluation.count()),
            evaluation.as_of,
            evaluation.elapsed
        );
    }
    output::write_members(evaluation, format, output).map_err(CliError::data)
}

/// `ensemble check`: every error of the script, nothing evaluated.
pub async fn check(input: &Input, options: &SessionOptions, color: bool) -> Result<(), CliError> {
    let (text, origin) = input.read()?;
    let mut session = input.session(options).await?;
    let check = session
        .check_script(&text, &origin)
        .map_err(|e| CliError::from_engine(&e, color))?;
    for note in &check.notes {
        err!("{}", note.render(&text, &origin, color));
    }
    if check.errors.is_empty() {
        errln!("{origin}: {} statement(s), no error", check.statements);
        return Ok(());
    }
    let mut errors: String = check.errors.iter().map(|e| e.render(color)).collect();
    errors.push_str(&format!("{} error(s)\n", check.errors.len()));
    Err(CliError::Language(errors))
}

/// `ensemble export`: the last expression's members with the universe's columns, to a file.
pub async fn export(
    input: &Input,
    output: &Path,
    options: &SessionOptions,
    color: bool,
) -> Result<(), CliError> {
    let (session, run) = run_script(input, options, color).await?;
    let Some(evaluation) = run.last_evaluation() else {
        return Err(CliError::language("the script has no expression to export"));
    };
    let table = evaluation.steps[evaluation.root].table.clone();
    let batches = session
        .members_with_columns(&table)
        .await
        .map_err(|e| CliError::from_engine(&e, color))?;
    output::write_batches(&batches, output).map_err(CliError::data)?;
    errln!(
        "wrote {} members to {}",
        ensemble::group_thousands(evaluation.count()),
        output.display()
    );
    Ok(())
}
