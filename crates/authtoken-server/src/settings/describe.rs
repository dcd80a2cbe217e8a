//! How a configuration that figment cannot read is told: one line per problem, naming the setting as the
//! documentation does and where it came from (a file's path, or a variable's name), and, for an unknown name, the
//! closest known one.

/// One line per problem, each naming the setting as the documentation does (lower case) and where it came from.
pub(super) fn describe(errors: figment::Error) -> anyhow::Error {
    let lines: Vec<String> = errors.into_iter().map(|e| explain(&e)).collect();
    anyhow::anyhow!(lines.join("\n"))
}

/// Where a setting came from: the file's path, or the variable's name.
fn origin(e: &figment::Error, key: &str) -> Option<String> {
    let metadata = e.metadata.as_ref()?;
    Some(match &metadata.source {
        Some(figment::Source::File(path)) => path.display().to_string(),
        _ if metadata.name.contains("environment") => format!("the environment, as {}", env_name(key)),
        _ => metadata.name.to_string(),
    })
}

fn env_name(key: &str) -> String {
    format!("AUTHTOKEN_{}", key.to_uppercase())
}

fn explain(e: &figment::Error) -> String {
    if let figment::error::Kind::UnknownField(name, known) = &e.kind {
        return unknown(e, name, known);
    }
    let key = e.path.join(".").to_lowercase();
    let origin = origin(e, &key).map(|origin| format!(" (from {origin})")).unwrap_or_default();
    if key.is_empty() {
        format!("invalid configuration: {}{origin}", e.kind)
    } else {
        format!("invalid setting `{key}`: {}{origin}", e.kind)
    }
}

/// An unknown name, with the closest known one when one is close, in the form it was written in.
fn unknown(e: &figment::Error, name: &str, known: &[&str]) -> String {
    let from_env = e.metadata.as_ref().is_some_and(|m| m.source.is_none() && m.name.contains("environment"));
    let closest = known
        .iter()
        .map(|candidate| (strsim::jaro_winkler(name, candidate), *candidate))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate);
    let (written, suggestion) =
        if from_env { (env_name(name), closest.map(env_name)) } else { (name.to_owned(), closest.map(str::to_owned)) };
    let place = match e.metadata.as_ref().and_then(|m| m.source.as_ref()) {
        Some(figment::Source::File(path)) => format!(" in {}", path.display()),
        _ if from_env => " in the environment".to_owned(),
        _ => String::new(),
    };
    match suggestion {
        Some(suggestion) => format!("unknown setting `{written}`{place}: did you mean `{suggestion}`?"),
        None => format!(
            "unknown setting `{written}`{place}: every setting is listed, with its default, in \
             examples/authtoken.toml and in the README"
        ),
    }
}
