//! Running one step attempt: a fresh store and instance, the deadline (epoch
//! interruption plus a host-side timer), cancellation, and the classification of
//! whatever happened into an [`Outcome`].

use crate::{
    Plugin, Sandbox, StepLimits,
    grants::Grants,
    host::{Breach, HostState, Phase, Usage},
};
use serde::Serialize;
use std::{
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio_util::sync::CancellationToken;
use wasmtime::{Store, Trap, UpdateDeadline};
pub use weft_types::Failure;
use weft_types::{ErrorKind, LogRecord, Reason, StepContext};

/// Extra time the host-side timer grants past the deadline before it drops the
/// plugin (the epoch check normally fires first).
const GRACE: Duration = Duration::from_millis(200);

/// The deadline of an invocation that starts now and may take `timeout`
/// (at most [`crate::MAX_TIMEOUT`]): never an overflow, whatever it is asked.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout.min(crate::MAX_TIMEOUT))
        .unwrap_or(now)
}

/// One step attempt to run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The action to run.
    pub action: String,
    /// Input, as JSON text.
    pub input: String,
    /// Config, as JSON text.
    pub config: String,
    /// Ids and idempotency key of the attempt.
    pub context: StepContext,
    /// What the tenant grants this step.
    pub grants: Grants,
    /// StepLimits for this attempt.
    pub limits: StepLimits,
    /// Cancelling this stops the plugin promptly.
    pub cancel: Option<CancellationToken>,
}

impl Invocation {
    /// An invocation with no grants, default limits and an ad-hoc context.
    pub fn new(action: impl Into<String>, input: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            input: input.into(),
            config: "{}".into(),
            context: StepContext::adhoc("adhoc"),
            grants: Grants::default(),
            limits: StepLimits::default(),
            cancel: None,
        }
    }
}

/// What came of an invocation: the result, what it used, and its logs.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The JSON output, or why there is none.
    pub result: Result<serde_json::Value, Failure>,
    /// Resources used.
    pub usage: Usage,
    /// Log records, bounded, ending with a marker if some were dropped.
    pub logs: Vec<LogRecord>,
}

pub(crate) fn unix_ms(at: Instant) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ahead = at.saturating_duration_since(Instant::now());
    u64::try_from((now + ahead).as_millis()).unwrap_or(u64::MAX)
}

/// A clock that never moves, at the epoch: `describe`'s.
struct Frozen;

impl wasmtime_wasi::HostWallClock for Frozen {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for Frozen {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

impl Sandbox {
    pub(crate) fn new_store(
        &self,
        plugin_manifest: Option<Arc<weft_types::Manifest>>,
        phase: Phase,
        grants: Grants,
        limits: StepLimits,
    ) -> Store<HostState> {
        let secrets = Arc::new(crate::scrub::Scrubber::new(
            grants.credentials.iter().flat_map(|c| c.clear_forms()),
        ));
        let logs = crate::host::log::Sink::new(limits.log_bytes, secrets.clone());
        let mut wasi = wasmtime_wasi::WasiCtxBuilder::new();
        wasi.stdout(crate::host::log::Stdio {
            sink: logs.clone(),
            source: crate::host::log::Source::Stdout,
        })
        .stderr(crate::host::log::Stdio {
            sink: logs.clone(),
            source: crate::host::log::Source::Stderr,
        })
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        // Already the default; said here because the sockets interfaces are
        // linked (weft_world::fit::DENIED_WASI): no address passes.
        .socket_addr_check(|_, _| Box::pin(async { false }));
        if phase == Phase::Describe {
            // `describe` answers the same at publish and at every later load:
            // no clock, no randomness to make it answer otherwise (a
            // manifest that widened on a date would escape the consent the
            // registry recorded; the worker also refuses one that differs).
            use rand010::SeedableRng as _;
            wasi.secure_random(rand010::rngs::StdRng::seed_from_u64(0))
                .insecure_random(rand010::rngs::StdRng::seed_from_u64(0))
                .insecure_random_seed(0);
        }
        if phase != Phase::Invoke {
            // Neither `describe` nor `init` (whose state every step of the
            // digest starts from) may depend on when it ran.
            wasi.wall_clock(Frozen).monotonic_clock(Frozen);
        }
        let mut table = wasmtime::component::ResourceTable::new();
        table.set_max_capacity(limits.resource_handles);
        let deadline = deadline_after(limits.timeout);
        let state = HostState {
            wasi: wasi.build(),
            table,
            limits,
            phase,
            manifest: plugin_manifest,
            grants,
            egress: self.inner.egress.clone(),
            logs,
            usage: Usage::default(),
            memory_now: 0,
            deadline,
            secrets,
            breach: None,
        };
        let mut store = Store::new(&self.inner.engine, state);
        store.limiter(|s| s as &mut dyn wasmtime::ResourceLimiter);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(Breach::trap(
                    Reason::DeadlineExceeded,
                    "the step ran past its deadline",
                ))
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }

    /// Runs one step attempt in a fresh instance of `plugin`.
    ///
    /// Never fails as a Rust error: every failure is in [`Outcome::result`], with a
    /// named [`Reason`] when the sandbox stopped the plugin.
    pub async fn invoke(&self, plugin: &Plugin, inv: Invocation) -> Outcome {
        let started = Instant::now();
        let Invocation {
            action,
            input,
            config,
            context,
            grants,
            limits,
            cancel,
        } = inv;
        let early = |failure: Failure| Outcome {
            result: Err(failure),
            usage: Usage::default(),
            logs: Vec::new(),
        };
        if input.len() + config.len() > limits.input_bytes {
            return early(Failure::of(
                Reason::InputTooLarge,
                format!(
                    "input and config are {} bytes; the limit is {}",
                    input.len() + config.len(),
                    limits.input_bytes
                ),
            ));
        }
        if plugin.manifest.action(&action).is_none() {
            let offered: Vec<&str> = plugin
                .manifest
                .actions
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            return early(Failure::new(
                ErrorKind::InvalidInput,
                format!(
                    "connector `{}` has no action `{action}` (it offers: {})",
                    plugin.manifest.name,
                    offered.join(", ")
                ),
            ));
        }
        let limits = StepLimits {
            memory_bytes: limits
                .memory_bytes
                .min(self.inner.options.engine.max_memory_bytes),
            ..limits
        };
        let mut store =
            self.new_store(Some(plugin.manifest.clone()), Phase::Invoke, grants, limits);
        let deadline = store.data().deadline;
        let wit_ctx = weft_world::context_to_wit(&context, unix_ms(deadline));
        let run = async {
            let instance = plugin.pre.instantiate_async(&mut store).await?;
            instance
                .weft_plugin_plugin()
                .call_invoke(&mut store, &wit_ctx, &action, &input, &config)
                .await
        };
        let raw = bounded(run, deadline, cancel.as_ref()).await;
        let result = self.classify(raw, &mut store, limits);
        let state = store.data_mut();
        let (logs, log_bytes) = state.logs.finish();
        let mut usage = state.usage;
        usage.log_bytes = log_bytes;
        usage.wall_time_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        Outcome {
            result,
            usage,
            logs,
        }
    }

    pub(crate) fn classify(
        &self,
        raw: Result<wasmtime::Result<Result<String, weft_world::wit_types::PluginError>>, Stopped>,
        store: &mut Store<HostState>,
        limits: StepLimits,
    ) -> Result<serde_json::Value, Failure> {
        let state = store.data();
        let secrets = state.secrets.clone();
        match raw {
            Err(Stopped::Cancelled) => {
                Err(Failure::of(Reason::Cancelled, "the step was cancelled"))
            }
            Err(Stopped::Deadline) => Err(Failure::of(
                Reason::DeadlineExceeded,
                format!(
                    "the step did not finish within {:?} (stopped by the host timer)",
                    limits.timeout.min(crate::MAX_TIMEOUT)
                ),
            )),
            Ok(Ok(Ok(text))) => {
                if text.len() > limits.output_bytes {
                    return Err(Failure::of(
                        Reason::OutputTooLarge,
                        format!(
                            "the output is {} bytes; the limit is {}",
                            text.len(),
                            limits.output_bytes
                        ),
                    ));
                }
                let text = if secrets.is_empty() {
                    text
                } else {
                    secrets.scrub_str(&text)
                };
                serde_json::from_str(&text)
                    .map(|v| secrets.scrub_json(v))
                    .map_err(|e| {
                        Failure::of(
                            Reason::InvalidOutput,
                            format!("the plugin's output is not JSON: {e}"),
                        )
                    })
            }
            Ok(Ok(Err(pe))) => Err(Failure {
                // Scrub before cutting, so the cut cannot leave a piece of a secret.
                retry_after_ms: pe.retry_after_ms,
                ..Failure::new(
                    pe.kind.into(),
                    truncate(&secrets.scrub_str(&pe.message), 4096),
                )
            }),
            Ok(Err(e)) => Err(self.trap_failure(&e, state)),
        }
    }

    fn trap_failure(&self, e: &wasmtime::Error, state: &HostState) -> Failure {
        if let Some((reason, message)) = &state.breach {
            return Failure::of(*reason, message.clone());
        }
        if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return Failure::of(
                Reason::HostBusy,
                format!("no free instance slot ({e}); the step can be retried"),
            );
        }
        if let Some(b) = e.downcast_ref::<Breach>() {
            return Failure::of(b.reason, b.message.clone());
        }
        if let Some(wasmtime_wasi::ResourceTableError::Full) =
            e.downcast_ref::<wasmtime_wasi::ResourceTableError>()
        {
            return Failure::of(
                Reason::ResourceLimit,
                format!(
                    "more than {} live resource handles",
                    state.limits.resource_handles
                ),
            );
        }
        let text = format!("{e:#}");
        if text.contains("resource table has no free keys") || text.contains("table is full") {
            return Failure::of(Reason::ResourceLimit, text);
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::StackOverflow) => {
                Failure::of(Reason::StackOverflow, "the plugin overflowed its stack")
            }
            Some(Trap::Interrupt) => {
                Failure::of(Reason::DeadlineExceeded, "the step ran past its deadline")
            }
            _ => {
                let secrets = &state.secrets;
                let message = match state.logs.last_complaint() {
                    Some(said) => format!("the plugin trapped: {said}"),
                    None => format!(
                        "the plugin trapped: {}",
                        secrets.scrub_str(&without_backtrace(e))
                    ),
                };
                Failure::of(Reason::Trap, truncate(&message, 4096))
            }
        }
    }
}

/// Awaits `run` until the host timer (the deadline plus a grace) or the
/// cancellation stops it.
pub(crate) async fn bounded<T>(
    run: impl std::future::Future<Output = T>,
    deadline: Instant,
    cancel: Option<&CancellationToken>,
) -> Result<T, Stopped> {
    let stop_at = deadline.checked_add(GRACE).unwrap_or(deadline);
    let timed = tokio::time::timeout_at(stop_at.into(), run);
    match cancel {
        Some(token) => tokio::select! {
            biased;
            () = token.cancelled() => Err(Stopped::Cancelled),
            r = timed => r.map_err(|_| Stopped::Deadline),
        },
        None => timed.await.map_err(|_| Stopped::Deadline),
    }
}

/// Why the host stopped waiting.
pub(crate) enum Stopped {
    Cancelled,
    Deadline,
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated]", &s[..end])
}

/// The error chain on one line, without the wasm backtrace frame (whose header
/// would otherwise be all a reader sees of a memory fault or `unreachable`).
fn without_backtrace(e: &wasmtime::Error) -> String {
    let backtrace = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(ToString::to_string);
    let parts: Vec<String> = e
        .chain()
        .map(ToString::to_string)
        .filter(|part| Some(part) != backtrace.as_ref())
        .collect();
    first_line(&parts.join(": "))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_timeout_is_clamped_not_overflowed() {
        let before = Instant::now();
        let d = deadline_after(Duration::MAX);
        assert!(d >= before + crate::MAX_TIMEOUT);
        assert!(d <= Instant::now() + crate::MAX_TIMEOUT);
        assert!(d.checked_add(GRACE).is_some());
        let short = deadline_after(Duration::from_millis(5));
        assert!(short <= Instant::now() + Duration::from_millis(5));
        // And the wall-clock form handed to the plugin saturates.
        assert!(unix_ms(d) > unix_ms(before));
    }
}
