//! Mail templates: `{username}` and `{url}` placeholders, `{{` and `}}` for literal braces, one variant per language.

/// A parsed template; rendering cannot fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template(Vec<Part>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Username,
    Url,
}

/// Why a template cannot be used; found at start-up, never when a mail is due.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A placeholder other than `{username}` and `{url}`; it holds the name found between the braces.
    #[error(
        "unknown placeholder `{{{0}}}`: only {{username}} and {{url}} exist (write {{{{ and }}}} for literal braces)"
    )]
    UnknownPlaceholder(String),
    /// A `{` opens a placeholder that the text never closes.
    #[error("a `{{` is never closed (write {{{{ for a literal brace)")]
    Unclosed,
    /// A single `}` that closes no placeholder.
    #[error("a `}}` closes nothing (write }}}} for a literal brace)")]
    UnmatchedClose,
}

impl Template {
    /// Parses a template, such as a setting's text; every error is found here, none when rendering.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '}' => return Err(TemplateError::UnmatchedClose),
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(TemplateError::Unclosed),
                        }
                    }
                    let part = match name.as_str() {
                        "username" => Part::Username,
                        "url" => Part::Url,
                        _ => return Err(TemplateError::UnknownPlaceholder(name)),
                    };
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal)));
                    }
                    parts.push(part);
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Self(parts))
    }

    /// The text with `{username}` and `{url}` replaced by `username` and `url`, as given (not escaped).
    pub fn render(&self, username: &str, url: &str) -> String {
        self.0
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.as_str(),
                Part::Username => username,
                Part::Url => url,
            })
            .collect()
    }
}

/// The subject and message of the confirmation mail in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailTemplate {
    /// The subject line.
    pub subject: Template,
    /// The body of the mail.
    pub message: Template,
}

/// The confirmation mail in every configured language, and the one used when none matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailTemplates {
    default: MailTemplate,
    /// Lower-case language tags (`de`, `pt-br`) and their variants.
    languages: Vec<(String, MailTemplate)>,
}

impl MailTemplates {
    /// The templates of `default` and of each language tag in `languages`; tags are compared
    /// case-insensitively.
    pub fn new(default: MailTemplate, languages: Vec<(String, MailTemplate)>) -> Self {
        let languages = languages.into_iter().map(|(tag, template)| (tag.to_ascii_lowercase(), template)).collect();
        Self { default, languages }
    }

    /// The variant for the first of `preferred` (most preferred first) that matches a configured tag exactly,
    /// or by its primary subtag (`de-AT` falls back to `de`); the default when none does.
    pub fn pick(&self, preferred: &[String]) -> &MailTemplate {
        self.get(self.language(preferred))
    }

    /// The configured tag that [`MailTemplates::pick`] picks for `preferred`, or `None` for the default.
    pub fn language(&self, preferred: &[String]) -> Option<&str> {
        for wanted in preferred {
            let wanted = wanted.to_ascii_lowercase();
            let primary = wanted.split('-').next().unwrap_or(&wanted);
            let found = self
                .languages
                .iter()
                .find(|(tag, _)| *tag == wanted)
                .or_else(|| self.languages.iter().find(|(tag, _)| tag == primary));
            if let Some((tag, _)) = found {
                return Some(tag);
            }
        }
        None
    }

    /// The variant of a configured tag (compared case-insensitively); the default for `None` and for a tag that is
    /// no longer configured.
    pub fn get(&self, language: Option<&str>) -> &MailTemplate {
        language
            .and_then(|wanted| self.languages.iter().find(|(tag, _)| tag.eq_ignore_ascii_case(wanted)))
            .map_or(&self.default, |(_, template)| template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<&str, TemplateError>) {
        let rendered = Template::parse(text).map(|t| t.render("john", "http://x/confirm/t/"));
        assert_eq!(rendered.as_deref().map_err(Clone::clone), expected, "{text:?}");
    }

    #[test]
    fn templates_render_like_python_str_format() {
        check("Hello {username}, open {url}", Ok("Hello john, open http://x/confirm/t/"));
        check("{url}{url}", Ok("http://x/confirm/t/http://x/confirm/t/"));
        check("literal {{braces}} stay", Ok("literal {braces} stay"));
        check("{{{username}}}", Ok("{john}"));
        check("", Ok(""));
        check("Grüße, {username}!", Ok("Grüße, john!"));
        check("{name}", Err(TemplateError::UnknownPlaceholder("name".into())));
        check("{}", Err(TemplateError::UnknownPlaceholder(String::new())));
        check("{username", Err(TemplateError::Unclosed));
        check("oops }", Err(TemplateError::UnmatchedClose));
    }

    fn variant(word: &str) -> MailTemplate {
        MailTemplate { subject: Template::parse(word).unwrap(), message: Template::parse(word).unwrap() }
    }

    #[track_caller]
    fn check_pick(preferred: &[&str], expected: &str) {
        let templates = MailTemplates::new(
            variant("en"),
            vec![("de".into(), variant("de")), ("pt-BR".into(), variant("pt-br")), ("pt".into(), variant("pt"))],
        );
        let preferred: Vec<String> = preferred.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(templates.pick(&preferred).subject.render("", ""), expected, "{preferred:?}");
    }

    #[test]
    fn the_language_is_picked_by_preference_then_primary_subtag() {
        check_pick(&[], "en");
        check_pick(&["fr"], "en");
        check_pick(&["de"], "de");
        check_pick(&["DE-at"], "de");
        check_pick(&["fr", "de"], "de");
        check_pick(&["pt-BR"], "pt-br");
        check_pick(&["pt-PT"], "pt");
        check_pick(&["pt"], "pt");
    }

    #[test]
    fn a_picked_language_finds_its_variant_again_and_a_dropped_one_falls_back() {
        let templates = MailTemplates::new(variant("en"), vec![("pt-BR".into(), variant("pt-br"))]);
        let tag = templates.language(&["PT-br".to_owned()]);
        assert_eq!(tag, Some("pt-br"));
        assert_eq!(templates.get(tag).subject.render("", ""), "pt-br");
        assert_eq!(templates.get(Some("PT-BR")).subject.render("", ""), "pt-br");
        assert_eq!(templates.get(Some("de")).subject.render("", ""), "en");
        assert_eq!(templates.get(None).subject.render("", ""), "en");
    }
}
