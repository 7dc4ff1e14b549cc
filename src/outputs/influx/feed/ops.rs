//! A KPI pass as InfluxDB points: the ticket events of the lookback, the
//! KPI periods and the snapshots of the present. Rewriting is idempotent
//! (InfluxDB keeps the last write of a series and time), at the cost of a
//! few points per ticket each pass.

use super::kpi_points as kp;
use super::points;
use crate::outputs::influx::queue::InfluxSink;
use crate::outputs::KpiPass;

/// Queues the points of `pass`.
pub fn write_pass(sink: &InfluxSink, pass: &KpiPass) {
    let now = pass.now;
    for h in &pass.histories {
        points::ticket_events(h).filter(|p| p.time >= pass.from).for_each(|p| sink.send(p));
    }
    pass.rates.iter().for_each(|r| sink.send(kp::rate(r)));
    pass.repair_times.iter().for_each(|r| sink.send(kp::repair_time(r)));
    pass.detection_leads.iter().for_each(|r| sink.send(kp::detection_lead(r)));
    pass.open.iter().for_each(|(group, row)| sink.send(kp::open(group, row, now)));
    pass.repair_rate.iter().for_each(|r| sink.send(kp::repair_rate(r, now)));
    pass.fault_share.iter().for_each(|r| sink.send(kp::fault(r, now)));
    pass.site_health.iter().for_each(|r| sink.send(kp::site(r, now)));
    pass.engineer_load.iter().for_each(|r| sink.send(kp::engineer(r, now)));
    pass.parts_stock.iter().for_each(|r| sink.send(kp::part(r, now)));
    pass.complaints.iter().flat_map(|r| kp::complaints(r, now)).for_each(|p| sink.send(p));
}
