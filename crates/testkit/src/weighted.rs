//! Weighted choice in constant time, over any items.

use rand::Rng;
use rand_distr::{Distribution, WeightedAliasIndex};

/// Items with an alias table over their weights: sampling costs two random numbers whatever
/// the number of items.
#[derive(Debug, Clone)]
pub(crate) struct Weighted<T> {
    items: Vec<T>,
    alias: WeightedAliasIndex<f64>,
}

impl<T> Weighted<T> {
    /// Pairs items with weights. Fails when there are no items or no positive weight.
    pub fn new(items: Vec<T>, weights: Vec<f64>) -> Result<Self, String> {
        if items.len() != weights.len() {
            return Err(format!(
                "{} items but {} weights",
                items.len(),
                weights.len()
            ));
        }
        let alias = WeightedAliasIndex::new(weights).map_err(|e| e.to_string())?;
        Ok(Self { items, alias })
    }

    /// Builds from `(item, weight)` pairs, dropping pairs whose weight is not positive.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (T, f64)>) -> Result<Self, String> {
        let (items, weights): (Vec<T>, Vec<f64>) =
            pairs.into_iter().filter(|(_, w)| *w > 0.0).unzip();
        Self::new(items, weights)
    }

    /// Draws an item.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> &T {
        &self.items[self.alias.sample(rng)]
    }

    /// Draws an item's index.
    pub fn sample_index<R: Rng>(&self, rng: &mut R) -> usize {
        self.alias.sample(rng)
    }

    /// The items, in the order given.
    pub fn items(&self) -> &[T] {
        &self.items
    }
}
