//! stub
use super::StoreError;
/// stub
#[derive(Debug)]
pub struct EtcdStore;
impl EtcdStore {
    /// stub
    pub async fn connect_url(_rest: &str) -> Result<super::sqlite::SqliteStore, StoreError> {
        Err(StoreError::Invalid("stub".into()))
    }
}
