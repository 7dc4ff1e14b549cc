//! Where each engineer's next journey starts: the last position their
//! mobile app reported, else the fleet file's position or home base;
//! indexed on the unit sphere (an R-tree) for nearest-first search, and
//! moved in place when a new position arrives.

use crate::fleet::Fleet;
use crate::model::GeoPoint;
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
}

impl Positions {
    pub(super) fn new(fleet: &Fleet) -> Positions {
        let points: Vec<GeoPoint> = fleet.engineers().iter().map(|e| e.start_point()).collect();
        let located = points.iter().enumerate().map(|(index, p)| Located { point: p.unit_vector(), index }).collect();
        Positions { tree: RTree::bulk_load(located), points }
    }

    pub(super) fn point(&self, index: usize) -> GeoPoint {
        self.points[index]
    }

    /// Engineers nearest-first from `site`, with their great-circle km
    /// (from the chord the tree measured: no trigonometry per engineer).
    pub(super) fn nearest(&self, site: &GeoPoint) -> impl Iterator<Item = (usize, f64)> + '_ {
        self.tree
            .nearest_neighbor_iter_with_distance_2(&site.unit_vector())
            .map(|(l, d2)| (l.index, km_from_chord2(d2)))
    }

    /// Engineer `index` is now at `to`.
    pub(super) fn set(&mut self, index: usize, to: GeoPoint) {
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

impl crate::db::Db {
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

    /// Every stored position, to restore the dispatcher's at start.
    pub async fn engineer_positions(&self) -> Result<Vec<(crate::model::EngineerId, GeoPoint)>, crate::db::DbError> {
        let rows = sqlx::query("SELECT engineer_id, lat, lon FROM engineer_positions").fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let id = crate::model::EngineerId::new(crate::db::col::<String>(r, "engineer_id")?);
                Ok((id, GeoPoint { lat: crate::db::col(r, "lat")?, lon: crate::db::col(r, "lon")? }))
            })
            .collect()
    }
}
