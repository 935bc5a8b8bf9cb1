//! An analytics details job read as a listing: submit it, poll until FULFILLED (bounded by
//! `jobTimeoutMs`), then its results are paged by cursor.

use super::{is_plain_id, Paginator};
use crate::error::{Error, Result};
use crate::pipeline::request::ApiRequest;
use serde_json::Value;
use std::time::Duration;

impl Paginator {
    pub(super) async fn submit_and_wait(&self) -> Result<String> {
        let mut submit = self.base.clone();
        submit.method = "POST".into();
        let body = self.send(submit).await?.body;
        let job_id = body
            .get("jobId")
            .and_then(Value::as_str)
            .filter(|j| is_plain_id(j))
            .ok_or_else(|| Error::Upstream {
                tenant_id: self.tenant_id.clone(),
                status: 200,
                body: body.clone(),
                message: Some("job submission answered without a usable jobId".into()),
                correlation_id: None,
            })?
            .to_string();
        let status_path = format!("{}/{}", self.base.path.split('?').next().unwrap_or("").trim_end_matches('/'), job_id);
        let started = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            let req =
                ApiRequest { method: "GET".into(), path: status_path.clone(), headers: self.base.headers.clone(), ..Default::default() };
            let body = self.send(req).await?.body;
            match body.get("state").and_then(Value::as_str).unwrap_or("") {
                "FULFILLED" => return Ok(job_id),
                s @ ("FAILED" | "CANCELLED" | "EXPIRED") => {
                    return Err(Error::Upstream {
                        tenant_id: self.tenant_id.clone(),
                        status: 200,
                        message: Some(format!(
                            "analytics job {job_id} ended {s}: {}",
                            body.get("errorMessage").and_then(Value::as_str).unwrap_or("no reason given")
                        )),
                        body,
                        correlation_id: None,
                    })
                }
                _ => {}
            }
            if started.elapsed() + delay > self.opts.job_timeout {
                return Err(Error::Timeout {
                    tenant_id: Some(self.tenant_id.clone()),
                    what: format!("analytics job {job_id} not fulfilled"),
                    after_ms: self.opts.job_timeout.as_millis() as u64,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(3));
        }
    }
}
