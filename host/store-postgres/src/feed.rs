//! The run feed on PostgreSQL: `LISTEN weft_run_answered` on a connection of
//! its own, fed by the `runs` triggers of migration 0017 (a `NOTIFY` in the
//! transaction that sets a run's response or ends it).

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::time::Duration;
use weft_store::{RunEvent, RunFeed};

/// The channel the triggers notify on.
pub(crate) const CHANNEL: &str = "weft_run_answered";
/// The first wait before connecting again after a failure; doubled up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One listening connection (its own pool of one, so that it never takes a
/// connection from the store's pool), reconnected after a loss.
pub(crate) struct Feed {
    pool: PgPool,
    listener: Option<PgListener>,
    backoff: Duration,
    /// Whether the last connect failed (a failure is logged once, then
    /// again only after a success).
    failing: bool,
}

impl Feed {
    /// A feed that connects on its first `next` with `options` (the store's).
    pub(crate) fn new(options: PgConnectOptions) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Self {
            pool,
            listener: None,
            backoff: FIRST_BACKOFF,
            failing: false,
        }
    }

    async fn connect(&self) -> Result<PgListener, sqlx::Error> {
        let mut l = PgListener::connect_with(&self.pool).await?;
        l.listen(CHANNEL).await?;
        Ok(l)
    }
}

#[async_trait]
impl RunFeed for Feed {
    async fn next(&mut self) -> RunEvent {
        let Some(listener) = self.listener.as_mut() else {
            return match self.connect().await {
                Ok(l) => {
                    self.listener = Some(l);
                    self.backoff = FIRST_BACKOFF;
                    self.failing = false;
                    RunEvent::Connected
                }
                Err(e) => {
                    if !self.failing {
                        tracing::warn!(error = %e, "run feed (LISTEN {CHANNEL}) cannot connect; waiters poll until it does");
                    }
                    self.failing = true;
                    tokio::time::sleep(self.backoff).await;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                    RunEvent::Lost
                }
            };
        };
        match listener.try_recv().await {
            Ok(Some(n)) => RunEvent::Answered(n.payload().to_owned()),
            Ok(None) | Err(_) => {
                // Dropped: the next call connects a new listener (and says
                // `Connected`), so that the waiters know when to look again.
                self.listener = None;
                RunEvent::Lost
            }
        }
    }
}
