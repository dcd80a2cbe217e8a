//! The Lua scripts that tell wrk what to send and make it report its summary as one JSON line.

use std::fmt::Write as _;

/// The prefix of the line the `done` hook prints; the JSON summary follows it.
pub(super) const RESULT_MARKER: &str = "WRK_RESULT ";

/// One request wrk may send: extra headers and an optional body.
#[derive(Debug, Clone)]
pub(super) struct Variant {
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Requests built once per thread from `variants` and sent in rotation.
pub(super) fn rotating(method: &str, path: &str, variants: &[Variant]) -> String {
    let mut table = String::new();
    for variant in variants {
        let headers: Vec<String> =
            variant.headers.iter().map(|(name, value)| format!("[{}] = {}", quote(name), quote(value))).collect();
        let body = variant.body.as_deref().map_or_else(|| "nil".to_owned(), quote);
        let _ = writeln!(table, "  {{ headers = {{ {} }}, body = {body} }},", headers.join(", "));
    }
    format!(
        r#"local variants = {{
{table}}}
local requests = {{}}
local next_index = 0

init = function(args)
  for i, v in ipairs(variants) do
    requests[i] = wrk.format({method}, {path}, v.headers, v.body)
  end
end

request = function()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
{DONE}"#,
        method = quote(method),
        path = quote(path),
    )
}

/// JSON POSTs of `{"username": "<prefix>-<thread>-<n>", "password": …}`: a new username on every request.
pub(super) fn unique_registrations(path: &str, prefix: &str, password: &str) -> String {
    format!(
        r#"local headers = {{ ["Content-Type"] = "application/json" }}
local setup_threads = 0
thread_id = 0
local counter = 0

setup = function(thread)
  setup_threads = setup_threads + 1
  thread:set("thread_id", setup_threads)
end

request = function()
  counter = counter + 1
  local body = string.format('{{"username":"%s-%d-%d","password":"%s"}}', {prefix}, thread_id, counter, {password})
  return wrk.format("POST", {path}, headers, body)
end
{DONE}"#,
        prefix = quote(prefix),
        password = quote(password),
        path = quote(path),
    )
}

/// Prints wrk's own summary as JSON; latencies are in microseconds, `status` counts responses over 399.
pub(super) const DONE: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%.0f,"duration_us":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,'
      .. '"connect":%.0f,"read":%.0f,"write":%.0f,"timeout":%.0f,"status":%.0f}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
"#;

/// A Lua string literal of `text`.
pub(super) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\{}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: &str) {
        assert_eq!(quote(text), expected, "{text:?}");
    }

    #[test]
    fn quote_escapes_what_lua_needs_escaped() {
        check("", r#""""#);
        check("/auth/me/", r#""/auth/me/""#);
        check(r#"{"a":"b"}"#, r#""{\"a\":\"b\"}""#);
        check(r"back\slash", r#""back\\slash""#);
        check("line\nbreak\r", r#""line\nbreak\r""#);
        check("\u{1}", r#""\1""#);
    }

    #[test]
    fn every_script_reports_through_the_done_hook() {
        let variant = Variant { headers: vec![("Authorization".into(), "Token x".into())], body: None };

        let scripts = [rotating("GET", "/auth/me/", &[variant]), unique_registrations("/auth/register/", "b1", "pw")];

        for script in scripts {
            assert!(script.contains("done = function(summary, latency, requests)"));
            assert!(script.contains(RESULT_MARKER.trim_end()));
        }
    }

    #[test]
    fn rotating_lists_each_variant_once() {
        let variants = [
            Variant { headers: vec![], body: Some(r#"{"u":"a"}"#.into()) },
            Variant { headers: vec![], body: Some(r#"{"u":"b"}"#.into()) },
        ];

        let script = rotating("POST", "/auth/login/", &variants);

        assert!(script.contains(r#"{ headers = {  }, body = "{\"u\":\"a\"}" },"#));
        assert!(script.contains(r#"{ headers = {  }, body = "{\"u\":\"b\"}" },"#));
    }
}
