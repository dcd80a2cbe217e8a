//! Where a request head ends: the scan for the blank line after the header fields, which [`super::Deadlines`]
//! feeds every byte of a head as it arrives.

/// Where the scan for the blank line that ends a request head stands (`\r\n\r\n`, or `\n\n`, which hyper
/// accepts too). Line breaks before the request line end nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scan {
    /// Nothing but line breaks so far.
    Start,
    /// Inside a line.
    Line,
    /// Just after a `\n`.
    LineFeed,
    /// Just after `\n\r`.
    LineFeedReturn,
}

impl Scan {
    /// Feeds the next bytes of the head; once the blank line has passed, how many of them the head took.
    pub(super) fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (at, &byte) in bytes.iter().enumerate() {
            *self = match (*self, byte) {
                (Self::Start, b'\r' | b'\n') => Self::Start,
                (Self::LineFeed | Self::LineFeedReturn, b'\n') => return Some(at + 1),
                (Self::LineFeed, b'\r') => Self::LineFeedReturn,
                (_, b'\n') => Self::LineFeed,
                _ => Self::Line,
            };
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(reads: &[&str], expected: Option<usize>) {
        let mut scan = Scan::Start;

        let ended = reads.iter().position(|read| scan.feed(read.as_bytes()).is_some());

        assert_eq!(ended, expected, "{reads:?}");
    }

    #[test]
    fn a_head_ends_at_its_first_blank_line() {
        check(&["GET / HTTP/1.1\r\nHost: a\r\n\r\n"], Some(0));
        check(&["GET / HTTP/1.1\r\n\r\nbody"], Some(0));
        check(&["GET / HTTP/1.1\nHost: a\n\n"], Some(0));
        check(&["GET / HTTP/1.1\r\nHost: a\r\n", "\r", "\n"], Some(2));
        check(&["GET / HTTP/1.1\r", "\n", "\r\n"], Some(2));
        check(&["GET / HTTP/1.1\r\nHost: a\r\n"], None);
        check(&["GET / HTTP/1.1\r\nX: a\r\n", "X: b\r\n", "X: c"], None);
        check(&["GET / HTTP/1.1\r\r\n"], None);
        check(&["GET / HTTP/1.1\n\r\r\n"], None);
    }

    #[test]
    fn line_breaks_before_the_request_line_do_not_end_a_head() {
        check(&["\r\n\r\n"], None);
        check(&["\r\n", "\r\n", "\n\n"], None);
        check(&["\r\n\r\nGET / HTTP/1.1\r\n", "\r\n"], Some(1));
    }

    #[test]
    fn a_head_takes_the_bytes_up_to_its_blank_line_and_no_more() {
        let mut scan = Scan::Start;
        assert_eq!(scan.feed(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        let mut scan = Scan::Start;
        assert_eq!(scan.feed(b"GET / HTTP/1.1\r\nHost: a\r"), None);
        assert_eq!(scan.feed(b"\n\r\n{}"), Some(3));
    }
}
