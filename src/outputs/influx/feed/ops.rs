//! The operations feed: every `kpi_every` it reads the ticket histories and
//! writes the ticket events and KPI periods of the lookback, and snapshots
//! of the present. Rewriting is idempotent (InfluxDB keeps the last write of
//! a series and time), so periods still filling and events recorded late or
//! back-dated are always right, at the cost of a few points per ticket.

use super::kpi_points as kp;
use super::points;
use crate::dispatch::StockStore;
use crate::fleet::Fleet;
use crate::kpi::{self, Period, TicketHistory};
use crate::model::EpochMs;
use crate::outputs::influx::queue::InfluxSink;
use crate::shutdown::Shutdown;
use crate::tickets::TicketStore;
use std::sync::Arc;
use std::time::Duration;

pub struct OpsFeed {
    pub sink: InfluxSink,
    pub tickets: TicketStore,
    pub stock: StockStore,
    pub fleet: Arc<Fleet>,
    pub every: Duration,
    pub lookback_ms: i64,
}

impl OpsFeed {
    /// Runs until `stop`, then makes one last pass so the final state is written.
    pub async fn run(self, mut stop: Shutdown) {
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let stopping = tokio::select! {
                _ = tick.tick() => false,
                () = stop.wait() => true,
            };
            let now = chrono::Utc::now().timestamp_millis();
            if let Err(e) = self.pass(now).await {
                tracing::warn!(error = %e, "KPI pass failed; retried at the next tick");
            }
            if stopping {
                break;
            }
        }
    }

    /// One pass at wall-clock `now`.
    pub async fn pass(&self, now: EpochMs) -> Result<(), crate::tickets::StoreError> {
        let since = now - self.lookback_ms.max(kpi::TRAILING_MS) - kpi::REPEAT_WITHIN_MS;
        let histories: Vec<TicketHistory> = self
            .tickets
            .ticket_histories(since)
            .await?
            .into_iter()
            .map(|h| TicketHistory::from_stored(h, &self.fleet))
            .collect();
        let from = now - self.lookback_ms;
        for h in &histories {
            points::ticket_events(h).filter(|p| p.time >= from).for_each(|p| self.sink.send(p));
        }
        for period in Period::ALL {
            kpi::rates(&histories, period, from, now).iter().for_each(|r| self.sink.send(kp::rate(r)));
            kpi::repair_times(&histories, period, from, now).iter().for_each(|r| self.sink.send(kp::repair_time(r)));
        }
        for (group, row) in kpi::open_tickets(&histories, now) {
            self.sink.send(kp::open(&group, &row, now));
        }
        kpi::repair_rate(&self.fleet, &histories, now).iter().for_each(|r| self.sink.send(kp::repair_rate(r, now)));
        kpi::fault_share(&histories, now).iter().for_each(|r| self.sink.send(kp::fault(r, now)));
        kpi::site_health(&self.fleet, &histories).iter().for_each(|r| self.sink.send(kp::site(r, now)));
        let loads = self.tickets.engineer_loads().await?;
        kpi::engineer_load(&self.fleet, &loads, now).iter().for_each(|r| self.sink.send(kp::engineer(r, now)));
        let levels = self.stock.stock_levels().await?;
        kpi::parts_stock(&self.fleet, levels).iter().for_each(|r| self.sink.send(kp::part(r, now)));
        Ok(())
    }
}
