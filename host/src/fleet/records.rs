//! Job records in the jobs bucket: created once per id, changed only by
//! compare-and-set, so concurrent workers never lose each other's updates;
//! and the events that tell clients about each change.

use framejet_spec::fleet::{
    Event, EventBody, JobFailure, JobRecord, JobState, WIRE_VERSION, is_token,
};

use super::{Fleet, FleetError, now_ms};

/// What [`Fleet::create_record`] found.
pub(crate) enum Created {
    /// The record is new.
    New(JobRecord),
    /// A record with this id exists (same spec or not: the caller decides).
    Exists(JobRecord),
}

impl Fleet {
    /// The record of job `id` and its revision, if it exists.
    pub(crate) async fn record(&self, id: &str) -> Result<Option<(JobRecord, u64)>, FleetError> {
        if !is_token(id) {
            return Err(FleetError::Refused(format!(
                "job id `{id}`: use letters, digits, `-` and `_` only"
            )));
        }
        let entry = self
            .jobs
            .entry(id)
            .await
            .map_err(|e| FleetError::nats(format!("read the record of job {id}"), e))?;
        let Some(entry) = entry else { return Ok(None) };
        if entry.operation != async_nats::jetstream::kv::Operation::Put {
            return Ok(None);
        }
        let record: JobRecord = serde_json::from_slice(&entry.value)
            .map_err(|e| FleetError::malformed(format!("record of job {id}"), e))?;
        Ok(Some((record, entry.revision)))
    }

    /// The record of job `id`, which must exist.
    pub async fn job_record(&self, id: &str) -> Result<JobRecord, FleetError> {
        self.record(id)
            .await?
            .map(|(r, _)| r)
            .ok_or_else(|| FleetError::Missing(format!("no job `{id}` (it may have expired)")))
    }

    /// Creates the record unless one exists: a create-only write, so an id
    /// stays unique for as long as its record lives. A new job's followers
    /// are told it is queued.
    pub(crate) async fn create_record(&self, record: JobRecord) -> Result<Created, FleetError> {
        let value = serde_json::to_vec(&record).map_err(|e| FleetError::malformed("record", e))?;
        loop {
            match self.jobs.create(&record.id, value.clone().into()).await {
                Ok(_) => {
                    let queued = EventBody::State {
                        state: JobState::Queued,
                        error: None,
                    };
                    self.emit(&record.id, queued).await;
                    return Ok(Created::New(record));
                }
                Err(e) if e.kind() == async_nats::jetstream::kv::CreateErrorKind::AlreadyExists => {
                    if let Some((existing, _)) = self.record(&record.id).await? {
                        return Ok(Created::Exists(existing));
                    }
                    // Deleted in between: try again.
                }
                Err(e) => {
                    return Err(FleetError::nats(
                        format!("create the record of job {}", record.id),
                        e,
                    ));
                }
            }
        }
    }

    /// Changes job `id`'s record with `change`, retrying on a concurrent
    /// write. `change` returns `None` to leave the record as it is; the
    /// result is the record after the change (or as it was) and what
    /// `change` said.
    pub(crate) async fn update_record<T>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut JobRecord) -> Option<T>,
    ) -> Result<(JobRecord, Option<T>), FleetError> {
        loop {
            let Some((mut record, revision)) = self.record(id).await? else {
                return Err(FleetError::Missing(format!(
                    "no job `{id}` (it may have expired or been purged)"
                )));
            };
            let Some(said) = change(&mut record) else {
                return Ok((record, None));
            };
            let value =
                serde_json::to_vec(&record).map_err(|e| FleetError::malformed("record", e))?;
            match self.jobs.update(id, value.into(), revision).await {
                Ok(_) => return Ok((record, Some(said))),
                Err(e)
                    if e.kind()
                        == async_nats::jetstream::kv::UpdateErrorKind::WrongLastRevision =>
                {
                    continue;
                }
                Err(e) => {
                    return Err(FleetError::nats(
                        format!("update the record of job {id}"),
                        e,
                    ));
                }
            }
        }
    }

    /// Ends job `id` in `state` (failed or cancelled) unless it has ended
    /// already; tells its followers. Returns whether this call ended it.
    pub(crate) async fn end_job(
        &self,
        id: &str,
        state: JobState,
        error: Option<JobFailure>,
    ) -> Result<bool, FleetError> {
        let (_, changed) = self
            .update_record(id, |r| {
                if r.state.is_final() {
                    return None;
                }
                r.state = state;
                r.error = error.clone();
                r.finished_at_ms = Some(now_ms());
                Some(())
            })
            .await?;
        if changed.is_some() {
            self.emit(id, EventBody::State { state, error }).await;
            super::job_log::store_job_log(self, id).await;
        }
        Ok(changed.is_some())
    }

    /// Publishes an event of job `id`. Events are for followers: the stream
    /// stores them without the publisher waiting for its ack, and one that
    /// cannot be published is logged while the work goes on.
    pub(crate) async fn emit(&self, id: &str, body: EventBody) {
        let subject = self.names().event_subject(id, body.subject_token());
        let event = Event {
            version: WIRE_VERSION,
            job_id: id.to_string(),
            at_ms: now_ms(),
            body,
        };
        let payload = match serde_json::to_vec(&event) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("event of job {id}: {e}");
                return;
            }
        };
        if let Err(e) = self.client.publish(subject, payload.into()).await {
            tracing::warn!("event of job {id} not published: {e}");
        }
    }
}
