//! Skills as small integers for the nearest-first walk: the walk judges
//! hundreds of engineers per ticket at 10,000 engineers, and comparing skill
//! names in each engineer's map was a third of its time.

use crate::fleet::Fleet;
use crate::model::SkillName;
use std::collections::{BTreeMap, HashMap};

/// Every engineer's level in every skill the fleet knows (0: not held).
pub(super) struct SkillTable {
    ids: HashMap<SkillName, usize>,
    levels: Vec<u8>,
}

/// One required skill: its slot (`None`: nobody in the fleet holds it), the
/// level needed, and its name for the note.
pub(super) type Required<'n> = Vec<(Option<usize>, u8, &'n SkillName)>;

impl SkillTable {
    pub(super) fn new(fleet: &Fleet) -> SkillTable {
        let mut ids = HashMap::new();
        for e in fleet.engineers() {
            for s in e.skills.keys() {
                let next = ids.len();
                ids.entry(s.clone()).or_insert(next);
            }
        }
        let mut levels = vec![0; ids.len() * fleet.engineers().len()];
        for (i, e) in fleet.engineers().iter().enumerate() {
            for (s, level) in &e.skills {
                levels[i * ids.len() + ids[s]] = *level;
            }
        }
        SkillTable { ids, levels }
    }

    pub(super) fn required<'n>(&self, needed: &'n BTreeMap<SkillName, u8>) -> Required<'n> {
        needed.iter().map(|(s, level)| (self.ids.get(s).copied(), *level, s)).collect()
    }

    /// The first required skill engineer `index` does not hold at its level.
    pub(super) fn first_missing<'n>(&self, index: usize, required: &Required<'n>) -> Option<&'n SkillName> {
        let row = &self.levels[index * self.ids.len()..];
        required.iter().find(|(slot, level, _)| slot.is_none_or(|k| row[k] < *level)).map(|(_, _, s)| *s)
    }
}
