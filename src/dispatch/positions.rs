//! Where each engineer's next journey starts: the last position their
//! mobile app reported, else the fleet file's position or home base;
//! indexed on the unit sphere (an R-tree) for nearest-first search, and
//! moved in place when a new position arrives.

use crate::fleet::Fleet;
use crate::model::{EpochMs, GeoPoint};
use rstar::{PointDistance, RTree, RTreeObject, AABB};

/// An engineer's starting point on the unit sphere.
#[derive(Debug, Clone, PartialEq)]
struct Located {
    point: [f64; 3],
    index: usize,
}

impl RTreeObject for Located {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.point)
    }
}

impl PointDistance for Located {
    fn distance_2(&self, p: &[f64; 3]) -> f64 {
        self.point.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum()
    }
}

pub(super) struct Positions {
    tree: RTree<Located>,
    /// By index into `Fleet::engineers`.
    points: Vec<GeoPoint>,
    /// Where each starts without a report: the fleet file's position or base.
    home: Vec<GeoPoint>,
    /// When each reported position was taken (`None`: at home).
    reported: Vec<Option<EpochMs>>,
}

impl Positions {
    pub(super) fn new(fleet: &Fleet) -> Positions {
        let points: Vec<GeoPoint> = fleet.engineers().iter().map(|e| e.start_point()).collect();
        let located = points.iter().enumerate().map(|(index, p)| Located { point: p.unit_vector(), index }).collect();
        let reported = vec![None; points.len()];
        Positions { tree: RTree::bulk_load(located), home: points.clone(), points, reported }
    }

    pub(super) fn point(&self, index: usize) -> GeoPoint {
        self.points[index]
    }

    /// When engineer `index`'s position was reported; `None` at home.
    pub(super) fn reported(&self, index: usize) -> Option<EpochMs> {
        self.reported[index]
    }

    /// Engineers nearest-first from `site`, with their great-circle km
    /// (from the chord the tree measured: no trigonometry per engineer).
    pub(super) fn nearest(&self, site: &GeoPoint) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&site.unit_vector())
            .map(|(l, d2)| (l.index, km_from_chord2(d2)))
    }

    /// Engineer `index` reported being at `to` at `at`; a report older
    /// than the one held (two requests racing) changes nothing.
    pub(super) fn set(&mut self, index: usize, to: GeoPoint, at: EpochMs) {
        if self.reported[index].is_some_and(|held| held > at) {
            return;
        }
        self.place(index, to);
        self.reported[index] = Some(at);
    }

    /// Reports taken before `before` no longer say where anyone starts
    /// (yesterday's last job site): those engineers start from home again.
    /// How many were reset.
    pub(super) fn expire(&mut self, before: EpochMs) -> usize {
        let stale: Vec<usize> =
            (0..self.points.len()).filter(|&i| self.reported[i].is_some_and(|t| t < before)).collect();
        for &i in &stale {
            self.place(i, self.home[i]);
            self.reported[i] = None;
        }
        stale.len()
    }

    fn place(&mut self, index: usize, to: GeoPoint) {
        self.tree.remove(&Located { point: self.points[index].unit_vector(), index });
        self.tree.insert(Located { point: to.unit_vector(), index });
        self.points[index] = to;
    }
}

/// Great-circle km between two points whose unit vectors are `d2` apart
/// (squared chord): the haversine of `GeoPoint::distance_km` in another form.
fn km_from_chord2(d2: f64) -> f64 {
    2.0 * crate::model::EARTH_RADIUS_KM * (d2.sqrt() / 2.0).min(1.0).asin()
}

crate::db::store!(
    /// Engineers' last reported positions, restored into the dispatcher at start.
    PositionStore,
    positions
);

impl PositionStore {
    /// Stores `engineer`'s reported position unless a later one is stored.
    pub async fn set_position(
        &self,
        engineer: &crate::model::EngineerId,
        at: crate::model::EpochMs,
        to: GeoPoint,
    ) -> Result<bool, crate::db::DbError> {
        let changed = sqlx::query(
            "INSERT INTO engineer_positions (engineer_id, lat, lon, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (engineer_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon, at = excluded.at \
             WHERE engineer_positions.at <= excluded.at",
        )
        .bind(engineer.as_str())
        .bind(to.lat)
        .bind(to.lon)
        .bind(at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }

    /// Deletes the positions taken before `before` (personal data past its retention).
    pub async fn purge_before(&self, before: EpochMs) -> Result<u64, crate::db::DbError> {
        let done = sqlx::query("DELETE FROM engineer_positions WHERE at < $1").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    /// Every position reported at or after `since`, to restore the dispatcher's at start.
    pub async fn engineer_positions(
        &self,
        since: EpochMs,
    ) -> Result<Vec<(crate::model::EngineerId, GeoPoint, EpochMs)>, crate::db::DbError> {
        let rows =
            sqlx::query("SELECT engineer_id, lat, lon, at FROM engineer_positions WHERE at >= $1 ORDER BY engineer_id")
                .bind(since)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                let id = crate::model::EngineerId::new(crate::db::col::<String>(r, "engineer_id")?);
                let at = GeoPoint { lat: crate::db::col(r, "lat")?, lon: crate::db::col(r, "lon")? };
                Ok((id, at, crate::db::col(r, "at")?))
            })
            .collect()
    }
}
