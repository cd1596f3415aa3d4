//! Plugin logs: the `weft:plugin/log` import and captured stdout/stderr, into one
//! bounded sink. Past the byte budget records are dropped and a marker says how much.

use super::HostState;
use crate::scrub::Scrubber;
use bytes::Bytes;
use std::{
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
pub(crate) use weft_types::log::{Level, LogRecord, Source};
use weft_world::log::{Host, Level as WitLevel};

#[derive(Default)]
struct Inner {
    records: Vec<LogRecord>,
    kept: usize,
    written: u64,
    dropped_bytes: u64,
    dropped_records: u64,
    partial: [Vec<u8>; 2],
}

/// A bounded log sink shared by the log import and the stdio streams.
#[derive(Clone)]
pub(crate) struct Sink {
    inner: Arc<Mutex<Inner>>,
    budget: usize,
    secrets: Arc<Scrubber>,
}

impl Sink {
    pub(crate) fn new(budget: usize, secrets: Arc<Scrubber>) -> Self {
        Self {
            inner: Arc::default(),
            budget,
            secrets,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the log inconsistent in a way
        // that matters; keep going with what is there.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(
        &self,
        level: Level,
        source: Source,
        message: &str,
        fields: Vec<(String, String)>,
    ) {
        let size = message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        let mut inner = self.lock();
        inner.written += size as u64;
        if inner.kept + size > self.budget {
            inner.dropped_bytes += size as u64;
            inner.dropped_records += 1;
            return;
        }
        inner.kept += size;
        let message = self.secrets.scrub_str(message);
        let fields = fields
            .into_iter()
            .map(|(k, v)| (self.secrets.scrub_str(&k), self.secrets.scrub_str(&v)))
            .collect();
        inner.records.push(LogRecord {
            level,
            source,
            message,
            fields,
        });
    }

    /// Appends stdio bytes; complete lines become records.
    fn push_stdio(&self, source: Source, bytes: &[u8]) {
        let idx = usize::from(source == Source::Stderr);
        let lines = {
            let mut inner = self.lock();
            let buf = &mut inner.partial[idx];
            // Bound the pending line: a guest writing without newlines still hits the budget.
            buf.extend_from_slice(&bytes[..bytes.len().min(self.budget.saturating_add(1))]);
            let mut lines = Vec::new();
            while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                lines.push(line);
            }
            if buf.len() > self.budget {
                lines.push(std::mem::take(buf));
            }
            lines
        };
        for line in lines {
            self.push_line(source, &line);
        }
    }

    fn push_line(&self, source: Source, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        let level = if source == Source::Stderr {
            Level::Warn
        } else {
            Level::Info
        };
        self.push(level, source, text, Vec::new());
    }

    /// Flushes pending partial lines and adds the truncation marker; returns the
    /// records and the total bytes the plugin wrote.
    pub(crate) fn finish(&self) -> (Vec<LogRecord>, u64) {
        let partial = {
            let mut inner = self.lock();
            [
                std::mem::take(&mut inner.partial[0]),
                std::mem::take(&mut inner.partial[1]),
            ]
        };
        for (i, p) in partial.iter().enumerate() {
            if !p.is_empty() {
                self.push_line(
                    if i == 1 {
                        Source::Stderr
                    } else {
                        Source::Stdout
                    },
                    p,
                );
            }
        }
        let mut inner = self.lock();
        if inner.dropped_records > 0 {
            let marker =
                LogRecord::truncated(inner.dropped_records, inner.dropped_bytes, self.budget);
            inner.records.push(marker);
        }
        (std::mem::take(&mut inner.records), inner.written)
    }

    /// The most recent error-level or stderr text, to explain a trap.
    pub(crate) fn last_complaint(&self) -> Option<String> {
        let inner = self.lock();
        let mut lines: Vec<&str> = inner
            .records
            .iter()
            .rev()
            .filter(|r| r.level == Level::Error || r.source == Source::Stderr)
            .filter(|r| {
                !r.message.trim().is_empty()
                    && !r.message.starts_with("note: run with `RUST_BACKTRACE")
            })
            .take(4)
            .map(|r| r.message.as_str())
            .collect();
        let pending = String::from_utf8_lossy(&inner.partial[1]).into_owned();
        lines.reverse();
        let mut text = lines.join("\n");
        if !pending.trim().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(pending.trim());
        }
        let text = self.secrets.scrub_str(&text);
        (!text.is_empty()).then(|| text.chars().take(2048).collect())
    }
}

/// The message of a log record by which a plugin reports its usage, with
/// the fields `llm_input_tokens`, `llm_output_tokens` and `llm_cost_micros`
/// (decimal integers; others are ignored). Counted in the attempt's usage,
/// each field capped at [`USAGE_CAP`] per attempt.
pub const USAGE_RECORD: &str = "weft.usage";

/// The most one attempt can report of a `weft.usage` field (2^48: 281
/// million units of currency in micros, far above any real call). A plugin
/// reporting more is capped and logged: the counters it feeds
/// (`weft_store::usage`) add up per day and must not overflow.
pub const USAGE_CAP: u64 = 1 << 48;

/// Adds a reported `n` to `slot`, capped at [`USAGE_CAP`]; whether it was.
pub(crate) fn add_reported(slot: &mut u64, n: u64) -> bool {
    let sum = slot.saturating_add(n);
    *slot = sum.min(USAGE_CAP);
    sum > USAGE_CAP
}

impl Host for HostState {
    async fn write(
        &mut self,
        level: WitLevel,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        let size = message.len() + fields.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        self.check_hostcall("a log record", size)?;
        if fields.len() > 64 {
            return Err(self.breach(
                weft_types::Reason::HostcallTooLarge,
                "a log record has more than 64 fields",
            ));
        }
        if message == USAGE_RECORD {
            // What a connector reports of its own use (an LLM's tokens and
            // cost): counted before the log budget can drop the record.
            for (k, v) in &fields {
                let Ok(n) = v.trim().parse::<u64>() else {
                    continue;
                };
                let slot = match k.as_str() {
                    "llm_input_tokens" => &mut self.usage.llm_input_tokens,
                    "llm_output_tokens" => &mut self.usage.llm_output_tokens,
                    "llm_cost_micros" => &mut self.usage.llm_cost_micros,
                    _ => continue,
                };
                if add_reported(slot, n) {
                    tracing::warn!(
                        field = %k,
                        value = n,
                        cap = USAGE_CAP,
                        "a plugin reported absurd usage; capped"
                    );
                }
            }
        }
        self.logs.push(level.into(), Source::Log, &message, fields);
        Ok(())
    }
}

/// The guest's stdout or stderr, captured into the sink.
#[derive(Clone)]
pub(crate) struct Stdio {
    pub sink: Sink,
    pub source: Source,
}

impl IsTerminal for Stdio {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Stdio {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Stdio {
    async fn ready(&mut self) {}
}

impl OutputStream for Stdio {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.sink.push_stdio(self.source, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for Stdio {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.sink.push_stdio(self.source, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_drops_records_and_marks_it() {
        let sink = Sink::new(10, Arc::new(Scrubber::default()));
        sink.push(Level::Info, Source::Log, "12345", vec![]);
        sink.push(Level::Info, Source::Log, "123456", vec![]);
        sink.push(Level::Info, Source::Log, "1234", vec![]);
        let (records, written) = sink.finish();
        assert_eq!(written, 15);
        assert_eq!(records.len(), 3);
        assert!(
            records[2]
                .message
                .starts_with("[log truncated: 1 records (6 bytes)")
        );
    }

    #[test]
    fn stdio_lines_are_split_and_scrubbed() {
        let sink = Sink::new(1000, Arc::new(Scrubber::new(["hunter22"])));
        let mut out = Stdio {
            sink: sink.clone(),
            source: Source::Stderr,
        };
        OutputStream::write(
            &mut out,
            Bytes::from_static(b"panicked at x: hunter22\npart"),
        )
        .unwrap();
        assert_eq!(
            sink.last_complaint().unwrap(),
            "panicked at x: [REDACTED]\npart"
        );
        let (records, _) = sink.finish();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].message, "part");
    }
}

#[cfg(test)]
mod usage_tests {
    use super::{USAGE_CAP, add_reported};

    #[test]
    fn reported_usage_is_capped() {
        let mut slot = 0;
        assert!(!add_reported(&mut slot, 5));
        assert_eq!(slot, 5);
        assert!(add_reported(&mut slot, u64::MAX));
        assert_eq!(slot, USAGE_CAP);
        assert!(add_reported(&mut slot, 1));
        assert_eq!(slot, USAGE_CAP);
        let mut slot = USAGE_CAP - 1;
        assert!(!add_reported(&mut slot, 1));
        assert_eq!(slot, USAGE_CAP);
    }
}
