//! The one error envelope: `{"error": {"code", "message", "details"?}}`. The
//! status is decided here and nowhere else; server errors are logged once, here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use weft_model::{ErrorBody, ErrorDetail};
use weft_types::Problem;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Vec<Problem>,
    run_id: Option<String>,
    retry_after: Option<u64>,
    reason: Option<weft_types::SignatureFailure>,
    /// The disclosure to consent to and its digest (`consent_mismatch`).
    consent: Option<Box<(Option<weft_model::registry::Disclosure>, String)>>,
}

/// `Result` for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with `status` and stable `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            run_id: None,
            retry_after: None,
            reason: None,
            consent: None,
        }
    }

    /// 401 `invalid_signature`: a signed webhook's check failed; `reason`
    /// says which.
    pub fn invalid_signature(
        reason: weft_types::SignatureFailure,
        scheme: weft_types::SignatureScheme,
    ) -> Self {
        use weft_types::SignatureFailure as F;
        let headers = scheme.signature_headers();
        let why = match reason {
            F::MissingHeader => format!("a header is missing: {scheme} signing needs {headers}"),
            F::MalformedHeader => {
                format!("a header is malformed: {scheme} signing needs {headers}")
            }
            F::BadSignature => "no signature matches the body".to_owned(),
            F::StaleTimestamp => "the signed timestamp is outside the replay window".to_owned(),
            F::SecretUnavailable => "the workflow's signing secret is not available".to_owned(),
        };
        let mut e = Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
            format!("the webhook signature check failed: {why}"),
        );
        e.reason = Some(reason);
        e
    }

    /// 422 `run_failed`: a run ended without answering (a webhook's answer).
    pub fn run_failed(run_id: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "run_failed", message);
        e.run_id = Some(run_id.to_owned());
        e
    }

    /// 429 `rate_limited`, with `Retry-After` in whole seconds (at least 1).
    pub fn rate_limited(what: &str, after: std::time::Duration) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("the tenant's {what} rate limit is reached; retry later"),
        );
        e.retry_after = Some(after.as_millis().div_ceil(1000).max(1) as u64);
        e
    }

    /// 429 `rate_limited` saying why, with `Retry-After` (at least 1 s).
    pub fn busy(message: impl Into<String>, after: std::time::Duration) -> Self {
        let mut e = Self::rate_limited("API", after);
        e.message = message.into();
        e
    }

    /// 503 `unavailable`, with `Retry-After`.
    pub fn unavailable(message: impl Into<String>, after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message);
        e.retry_after = Some(after_secs.max(1));
        e
    }

    /// 404 `not_found`: also what another tenant's ids answer.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 400 `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401 `unauthenticated`.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "a valid API key is required (Authorization: Bearer weft_...)",
        )
    }

    /// 403 `forbidden`.
    pub fn forbidden(needed: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key's role cannot do this (needs {needed})"),
        )
    }

    /// 400 `invalid_workflow` with every problem.
    pub fn invalid_workflow(problems: Vec<Problem>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_workflow",
            format!("the workflow definition has {} problem(s)", problems.len()),
        );
        e.details = problems;
        e
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The envelope, `{"error": {...}}`, as every surface shows it (the API's
    /// answers and the MCP server's tool errors). A server error is logged
    /// here, once.
    pub fn into_body(self) -> ErrorBody {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        let consent = self.consent;
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
                run_id: self.run_id,
                reason: self.reason,
                disclosure: consent.as_ref().and_then(|c| c.0.clone()).map(Box::new),
                disclosure_digest: consent.map(|c| c.1),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A 503 always says when to come back (the store or the broker is down).
        let retry = self
            .retry_after
            .or((self.status == StatusCode::SERVICE_UNAVAILABLE).then_some(1));
        let status = self.status;
        let mut resp = (status, Json(self.into_body())).into_response();
        if let Some(secs) = retry {
            resp.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        resp
    }
}

impl From<weft_app::Error> for ApiError {
    fn from(e: weft_app::Error) -> Self {
        use weft_app::Error as A;
        match e {
            A::Unauthenticated => Self::unauthenticated(),
            A::BadCredentials(m) => Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", m),
            A::Forbidden { needs } => Self::forbidden(needs.as_str()),
            A::OutOfScope { needs } => Self::new(
                StatusCode::FORBIDDEN,
                "scope",
                format!("this API key's scopes do not allow this (needs `{needs}`)"),
            ),
            A::NotFound(what) => Self::not_found(what),
            A::Invalid(m) => Self::invalid(m),
            A::InvalidWorkflow {
                problems,
                too_large,
            } => {
                let mut out = Self::invalid_workflow(problems);
                if too_large {
                    out.status = StatusCode::PAYLOAD_TOO_LARGE;
                }
                out
            }
            A::InvalidInput(problems) => {
                let mut out = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_input",
                    weft_engine::input::summary(&problems),
                );
                out.details = problems;
                out
            }
            A::Conflict(m) | A::Duplicate(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            A::Signature(reason, scheme) => Self::invalid_signature(reason, scheme),
            A::Refused {
                code,
                message,
                problems,
            } => {
                let mut out = Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
                out.details = problems;
                out
            }
            A::Consent {
                code,
                message,
                disclosure,
                disclosure_digest,
            } => {
                let mut out = Self::new(StatusCode::CONFLICT, code, message);
                out.consent = Some(Box::new((
                    serde_json::from_value(disclosure).ok(),
                    format!("sha256:{disclosure_digest}"),
                )));
                out
            }
            A::TenantSuspended(reason) => Self::new(
                StatusCode::FORBIDDEN,
                "tenant_suspended",
                format!("this tenant is suspended: {reason}"),
            ),
            A::WrongPrincipal(m) => Self::new(StatusCode::FORBIDDEN, "wrong_principal", m),
            A::Denied(m) => Self::new(StatusCode::FORBIDDEN, "forbidden", m),
            A::Throttled {
                message,
                retry_after,
            } => {
                let mut out = Self::rate_limited("login", retry_after);
                out.message = message;
                out
            }
            A::Quota(m) => Self::new(StatusCode::TOO_MANY_REQUESTS, "quota_exceeded", m),
            A::Unavailable(m) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            A::Internal(m) => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m),
            A::SecondFactor { code, message } => Self::new(StatusCode::UNAUTHORIZED, code, message),
        }
    }
}

impl From<weft_store::Error> for ApiError {
    fn from(e: weft_store::Error) -> Self {
        weft_app::Error::from(e).into()
    }
}
