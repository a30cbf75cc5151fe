//! How a loyalty programme behaves: who signs up when, who buys how much and how often, who
//! stops, when the year peaks. Each function draws one customer's life from its own stream.

use chrono::{Datelike, NaiveDate};

use crate::random::Random;

/// Cities with their region and postal prefix.
pub const CITIES: [(&str, &str, &str); 12] = [
    ("Paris", "Île-de-France", "75"),
    ("Boulogne-Billancourt", "Île-de-France", "92"),
    ("Lyon", "Auvergne-Rhône-Alpes", "69"),
    ("Saint-Étienne", "Auvergne-Rhône-Alpes", "42"),
    ("Marseille", "Provence-Alpes-Côte d'Azur", "13"),
    ("Nice", "Provence-Alpes-Côte d'Azur", "06"),
    ("Lille", "Hauts-de-France", "59"),
    ("Nantes", "Pays de la Loire", "44"),
    ("Bordeaux", "Nouvelle-Aquitaine", "33"),
    ("Toulouse", "Occitanie", "31"),
    ("Rennes", "Bretagne", "35"),
    ("Strasbourg", "Grand Est", "67"),
];
/// Weights of the cities (bigger cities, more members).
pub const CITY_WEIGHTS: [f64; 12] = [18.0, 4.0, 9.0, 3.0, 8.0, 4.0, 6.0, 5.0, 6.0, 7.0, 4.0, 4.0];
/// Product categories and their weights.
pub const CATEGORIES: [(&str, f64); 7] = [
    ("food", 30.0),
    ("beauty", 14.0),
    ("home", 16.0),
    ("fashion", 18.0),
    ("sport", 8.0),
    ("electronics", 6.0),
    ("toys", 8.0),
];
/// Acquisition channels.
pub const ACQUISITION: [(&str, f64); 4] = [
    ("store", 50.0),
    ("web", 30.0),
    ("referral", 10.0),
    ("social", 10.0),
];
/// Number of stores.
pub const STORES: u64 = 60;

/// Days of history before the as-of date.
pub const HISTORY_DAYS: i64 = 6 * 365;

/// One customer's latent traits.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Signup date, as days from the epoch.
    pub signup: i64,
    /// Never buys.
    pub prospect: bool,
    /// Purchases per year while active.
    pub frequency: f64,
    /// Typical basket, in euros.
    pub basket: f64,
    /// Last day of activity (days from the epoch), at most the as-of date.
    pub active_until: i64,
    /// Home store.
    pub home_store: i64,
}

/// Draws a customer's traits.
pub fn profile(random: &mut Random, as_of: i64) -> Profile {
    // Acquisition grows over time: more recent signups are more frequent; 4% joined in the
    // last 30 days.
    let signup = if random.chance(0.04) {
        as_of - random.below(30) as i64
    } else {
        as_of - 30 - ((HISTORY_DAYS - 30) as f64 * (1.0 - random.unit().sqrt())) as i64
    };
    let recent = as_of - signup < 45;
    let prospect = random.chance(0.10) || (recent && random.chance(0.7));
    // Heavy tail: a few percent of members make a large share of revenue.
    let value = (random.normal() * 1.0).exp();
    let frequency = (8.0 * value.powf(0.9)).clamp(0.5, 150.0);
    let basket = (22.0 * value.powf(0.35) * (random.normal() * 0.25).exp()).clamp(5.0, 600.0);
    // Churn: 45% stop buying some time after joining.
    let active_until = if random.chance(0.45) {
        (signup + 30 + random.exponential(600.0) as i64).min(as_of)
    } else {
        as_of
    };
    Profile {
        signup,
        prospect,
        frequency,
        basket,
        active_until,
        home_store: 1 + random.below(STORES) as i64,
    }
}

/// Relative purchase intensity of a day (December peak, quiet January and August).
pub fn season(day: i64) -> f64 {
    let date = NaiveDate::from_num_days_from_ce_opt((day + 719_163) as i32);
    match date.map(|d| d.month()).unwrap_or(6) {
        12 => 1.0,
        11 => 0.7,
        1 | 8 => 0.4,
        _ => 0.5,
    }
}

/// Purchase days of a customer between `start` and `end` (inclusive): a Poisson process of
/// the customer's frequency, thinned by the season.
pub fn purchase_days(random: &mut Random, profile: &Profile, start: i64, end: i64) -> Vec<i64> {
    let mut days = Vec::new();
    if profile.prospect || end < start {
        return days;
    }
    // Thinning keeps `season(d)` of the candidates: scale the rate so that the mean stays.
    let rate = profile.frequency / 365.0 / 0.55;
    let mut t = start as f64 + random.exponential(1.0 / rate);
    while t <= end as f64 {
        let day = t as i64;
        if random.chance(season(day)) {
            days.push(day);
        }
        t += random.exponential(1.0 / rate);
    }
    days
}
