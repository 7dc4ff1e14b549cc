//! The seam's pass over the ticket store: every `every` it reads the ticket
//! histories of the lookback (their events included) and computes the KPI
//! periods and snapshots of the present once, as one typed `KpiPass` that
//! every output asking for it receives. Outputs rewrite what they were
//! handed each pass, so periods still filling and events recorded late or
//! back-dated come out right.

use super::OutputContext;
use crate::dispatch::StockStore;
use crate::fleet::Fleet;
use crate::kpi::{
    self, EngineerRow, FaultRow, Group, LeadRow, ModelRate, OpenRow, PartRow, Period, RateRow, RepairTimeRow, SiteRow,
    TicketHistory,
};
use crate::model::EpochMs;
use crate::shutdown::Shutdown;
use crate::tickets::{StoreError, TicketReader};
use std::sync::Arc;
use std::time::Duration;

/// One pass: the tickets of the lookback with their events, and the KPIs.
#[derive(Debug, Clone, Default)]
pub struct KpiPass {
    /// When the pass ran (wall clock) and where its lookback starts.
    pub now: EpochMs,
    pub from: EpochMs,
    /// Every ticket touched since `from` (and the earlier ones its KPIs
    /// need), with its event history and parts.
    pub histories: Vec<TicketHistory>,
    /// Per period (hour, day, ...) rows that start at or after `from`.
    pub rates: Vec<RateRow>,
    pub repair_times: Vec<RepairTimeRow>,
    /// How far ahead of customers' calls the engine was.
    pub detection_leads: Vec<LeadRow>,
    /// Snapshots of the present.
    pub open: Vec<(Group, OpenRow)>,
    pub repair_rate: Vec<ModelRate>,
    pub fault_share: Vec<FaultRow>,
    pub site_health: Vec<SiteRow>,
    pub engineer_load: Vec<EngineerRow>,
    pub parts_stock: Vec<PartRow>,
    /// Complaint rate and kinds per model (trailing 30 days).
    pub complaints: Vec<kpi::ComplaintRow>,
}

/// Takes a pass; must not block (an output queues what it writes).
pub type KpiTap = Arc<dyn Fn(&KpiPass) + Send + Sync>;

/// What a pass reads.
pub struct PassSource {
    pub tickets: TicketReader,
    pub stock: StockStore,
    pub complaints: crate::tickets::complaints::ComplaintStore,
    pub fleet: Arc<Fleet>,
    pub lookback_ms: i64,
}

impl PassSource {
    pub fn new(ctx: &OutputContext<'_>, lookback_ms: i64) -> PassSource {
        PassSource {
            tickets: ctx.tickets.clone(),
            stock: ctx.stock.clone(),
            complaints: ctx.db.complaints(),
            fleet: Arc::clone(ctx.fleet),
            lookback_ms,
        }
    }

    /// One pass at wall-clock `now`.
    pub async fn pass(&self, now: EpochMs) -> Result<KpiPass, StoreError> {
        let since = now - self.lookback_ms.max(kpi::TRAILING_MS) - kpi::REPEAT_WITHIN_MS;
        let stored = self.tickets.ticket_histories(since).await?;
        let histories: Vec<TicketHistory> =
            stored.into_iter().map(|h| TicketHistory::from_stored(h, &self.fleet)).collect();
        let from = now - self.lookback_ms;
        let (mut rates, mut repair_times, mut detection_leads) = (Vec::new(), Vec::new(), Vec::new());
        for period in Period::ALL {
            rates.extend(kpi::rates(&histories, period, from, now));
            repair_times.extend(kpi::repair_times(&histories, period, from, now));
            detection_leads.extend(kpi::detection_leads(&histories, period, from, now));
        }
        let loads = self.tickets.engineer_loads().await?;
        let levels = self.stock.stock_levels().await?;
        let since = now - kpi::TRAILING_MS;
        let filter =
            crate::tickets::complaints::ComplaintFilter { since: Some(since), limit: 10_000, ..Default::default() };
        let complaints = self.complaints.list(&filter).await?;
        Ok(KpiPass {
            now,
            from,
            rates,
            repair_times,
            detection_leads,
            open: kpi::open_tickets(&histories, now).into_iter().collect(),
            repair_rate: kpi::repair_rate(&self.fleet, &histories, now),
            fault_share: kpi::fault_share(&histories, now),
            site_health: kpi::site_health(&self.fleet, &histories),
            engineer_load: kpi::engineer_load(&self.fleet, &loads, now),
            parts_stock: kpi::parts_stock(&self.fleet, levels),
            complaints: kpi::complaint_rates(&histories, &complaints, now),
            histories,
        })
    }

    /// Passes every `every` until `stop`, then one last so the final state
    /// is handed over; a failed pass is retried at the next tick.
    pub async fn run(self, every: Duration, taps: Vec<KpiTap>, mut stop: Shutdown) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = tick.tick() => false,
                () = stop.wait() => true,
            };
            match self.pass(chrono::Utc::now().timestamp_millis()).await {
                Ok(pass) => taps.iter().for_each(|tap| tap(&pass)),
                Err(e) => tracing::warn!(error = %e, "KPI pass failed; retried at the next tick"),
            }
            if stopping {
                break;
            }
        }
    }
}
