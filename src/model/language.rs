//! The languages people read the product in: the pages' catalogues, rule
//! descriptions and notification templates each come in all of them.

use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
    pub enum Language: "language" {
        #[default]
        #[serde(rename = "en")]
        En = "en",
        #[serde(rename = "zh-CN")]
        ZhCn = "zh-CN",
    }
}
