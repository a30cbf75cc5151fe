//! One customer's generated life: their profile, purchases (with earned points and reviews),
//! redemption, visits, campaign messages and customer row, appended to a chunk's builders.

use crate::model::{self, Profile};
use crate::random::Random;
use crate::tables::Builders;

const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_SECOND: i64 = 1_000_000;

/// A time of day during opening hours, in microseconds.
fn opening_hours(random: &mut Random) -> i64 {
    (9 * 3_600 + random.below(11 * 3_600) as i64) * MICROS_PER_SECOND
}

/// One customer being generated: who they are and what was drawn first about them, shared by
/// the generators of their rows.
struct Member {
    /// The customer's number.
    id: u64,
    /// The same number, as stored in the `customer_id` columns.
    customer_id: i64,
    /// The history's end, as days from the epoch.
    as_of: i64,
    /// Signup, activity, basket and home store.
    profile: Profile,
    /// Home city: `(city, region, postal code prefix)`.
    home_city: (&'static str, &'static str, &'static str),
    /// Whether the customer accepts emails (and so receives the campaigns).
    optin_email: bool,
}

/// What a customer's purchases add up to, for their customer row.
#[derive(Default)]
struct Totals {
    /// Spend of the last 12 months before the as-of date, in cents.
    spend_12m: i128,
    /// Points balance.
    points: i64,
}

/// What the rest of a customer's life needs to know about one of their purchases.
#[derive(Clone, Copy)]
struct Purchase {
    /// When it happened, in microseconds from the epoch.
    at: i64,
    /// Its amount, in cents.
    cents: i128,
    /// Its category (even when the `purchases` row leaves it missing).
    category: &'static str,
}

/// One customer's row and life: draws their profile, home city and email opt-in, then appends
/// their purchases, redemption, visits, messages and finally their customer row.
pub(crate) fn customer(b: &mut Builders, seed: u64, id: u64, as_of: i64) {
    let mut random = Random::for_customer(seed, id);
    let profile: Profile = model::profile(&mut random, as_of);
    let home_city = draw_home_city(&mut random);
    let optin_email = random.chance(0.62);
    let member = Member {
        id,
        customer_id: id as i64,
        as_of,
        profile,
        home_city,
        optin_email,
    };
    let mut totals = append_purchases(b, &mut random, &member);
    append_redemption(b, &mut random, &member, &mut totals.points);
    append_visits(b, &mut random, &member);
    if member.optin_email {
        append_messages(b, &mut random, &member);
    }
    append_customer_row(b, &mut random, &member, &totals);
}

/// Draws a home city by the cities' weights: `(city, region, postal code prefix)`.
fn draw_home_city(random: &mut Random) -> (&'static str, &'static str, &'static str) {
    let city_index = *random.weighted(
        &model::CITY_WEIGHTS
            .iter()
            .enumerate()
            .map(|(i, w)| (i, *w))
            .collect::<Vec<_>>(),
    );
    model::CITIES[city_index]
}

/// Appends a customer's purchases, each with the points it may earn and the review it may
/// get; returns the spend of the last 12 months and the points earned.
fn append_purchases(b: &mut Builders, random: &mut Random, member: &Member) -> Totals {
    let profile = &member.profile;
    let mut totals = Totals::default();
    let days_list = model::purchase_days(random, profile, profile.signup, profile.active_until);
    for (index, day) in days_list.into_iter().enumerate() {
        let purchase = append_purchase(b, random, member, index, day);
        if day > member.as_of - 365 {
            totals.spend_12m += purchase.cents;
        }
        if random.chance(0.5) {
            let earned = (purchase.cents / 100) as i64;
            totals.points += earned;
            append_loyalty_event(b, member.customer_id, purchase.at, "earned", earned);
        }
        maybe_append_review(b, random, member, day, purchase.category);
    }
    totals
}

/// Draws the purchase of rank `index` on `day` (time, channel, amount, category, store,
/// items, discount) and appends its `purchases` row.
fn append_purchase(
    b: &mut Builders,
    random: &mut Random,
    member: &Member,
    index: usize,
    day: i64,
) -> Purchase {
    let profile = &member.profile;
    let at = day * MICROS_PER_DAY + opening_hours(random);
    let channel = *random.weighted(&[("store", 65.0), ("web", 25.0), ("app", 10.0)]);
    let cents =
        ((profile.basket * (random.normal() * 0.45).exp()).max(1.0) * 100.0).round() as i128;
    let category = *random.weighted(&model::CATEGORIES);
    // Unique and stable: the customer's id, then the purchase's rank (< 2^20).
    let purchase_id = ((member.id as i64) << 20) | (index as i64 & 0xF_FFFF);
    b.p_id.append_value(purchase_id);
    b.p_customer.append_value(member.customer_id);
    b.p_at.append_value(at);
    if channel == "store" {
        let store = if random.chance(0.8) {
            profile.home_store
        } else {
            1 + random.below(model::STORES) as i64
        };
        b.p_store.append_value(store as i32);
    } else {
        b.p_store.append_null();
    }
    b.p_channel.append_value(channel);
    b.p_amount.append_value(cents);
    b.p_items
        .append_value(1 + (cents / 2_500) as i32 + random.below(3) as i32);
    if random.chance(0.03) {
        b.p_category.append_null();
    } else {
        b.p_category.append_value(category);
    }
    if random.chance(0.2) {
        b.p_discount
            .append_value(cents * (10 + random.below(21) as i128) / 100);
    } else {
        b.p_discount.append_null();
    }
    Purchase {
        at,
        cents,
        category,
    }
}

/// Appends one `loyalty_events` row: `points` of the given kind at `at`.
fn append_loyalty_event(b: &mut Builders, customer_id: i64, at: i64, kind: &str, points: i64) {
    b.l_customer.append_value(customer_id);
    b.l_at.append_value(at);
    b.l_kind.append_value(kind);
    b.l_points.append_value(points);
}

/// 6% of purchases get a review within two weeks: appends it to `reviews` if it falls on or
/// before the as-of date.
fn maybe_append_review(
    b: &mut Builders,
    random: &mut Random,
    member: &Member,
    day: i64,
    category: &str,
) {
    if random.chance(0.06) {
        let review_day = day + 1 + random.below(14) as i64;
        if review_day <= member.as_of {
            b.r_customer.append_value(member.customer_id);
            b.r_at
                .append_value(review_day * MICROS_PER_DAY + opening_hours(random));
            b.r_rating.append_value(*random.weighted(&[
                (5i8, 45.0),
                (4, 30.0),
                (3, 12.0),
                (2, 7.0),
                (1, 6.0),
            ]));
            b.r_category.append_value(category);
        }
    }
}

/// Redemptions: roughly once a year while points remain — above 200 points, 60% of customers
/// redeem half of them on a day of their active life (taken off `points`).
fn append_redemption(b: &mut Builders, random: &mut Random, member: &Member, points: &mut i64) {
    let profile = &member.profile;
    if *points > 200 && random.chance(0.6) {
        let redeemed = *points / 2;
        *points -= redeemed;
        let day = profile.signup
            + random.below((profile.active_until - profile.signup).max(1) as u64) as i64;
        let at = day * MICROS_PER_DAY + opening_hours(random);
        append_loyalty_event(b, member.customer_id, at, "redeemed", -redeemed);
    }
}

/// Visits: store and web, a little less often than purchases (many purchases need no
/// separate visit), also by prospects (browsing).
fn append_visits(b: &mut Builders, random: &mut Random, member: &Member) {
    let profile = &member.profile;
    let visit_rate = if profile.prospect {
        1.5
    } else {
        profile.frequency * 0.8
    };
    let mut t = profile.signup as f64 + random.exponential(365.0 / visit_rate);
    while t <= profile.active_until as f64 {
        let day = t as i64;
        let web = random.chance(0.45);
        b.v_customer.append_value(member.customer_id);
        b.v_at
            .append_value(day * MICROS_PER_DAY + opening_hours(random));
        b.v_channel.append_value(if web { "web" } else { "store" });
        if web {
            b.v_store.append_null();
        } else {
            b.v_store.append_value(profile.home_store as i32);
        }
        t += random.exponential(365.0 / visit_rate);
    }
}

/// Messages: the monthly campaigns of the last two years the customer was there for (35% of
/// them reach a given customer), opened and clicked less once the customer has left.
fn append_messages(b: &mut Builders, random: &mut Random, member: &Member) {
    let profile = &member.profile;
    for month in 0..24i64 {
        let sent = member.as_of - 15 - month * 30;
        if sent < profile.signup || !random.chance(0.35) {
            continue;
        }
        let engaged = sent <= profile.active_until;
        let opened = random.chance(if engaged { 0.3 } else { 0.08 });
        let clicked = opened && random.chance(0.25);
        b.m_customer.append_value(member.customer_id);
        b.m_campaign
            .append_value(format!("newsletter-{:02}", (24 - month)));
        b.m_at
            .append_value(sent * MICROS_PER_DAY + 8 * 3_600 * MICROS_PER_SECOND);
        b.m_opened.append_value(opened);
        b.m_clicked.append_value(clicked);
    }
}

/// Appends the customer row: draws the optional and descriptive columns (birth date, gender,
/// country and address, acquisition channel, SMS opt-in) and reports the purchases' totals.
fn append_customer_row(b: &mut Builders, random: &mut Random, member: &Member, totals: &Totals) {
    let as_of = member.as_of;
    let (city, region, postal) = member.home_city;
    b.c_id.append_value(member.customer_id);
    b.c_signup.append_value(member.profile.signup as i32);
    if random.chance(0.12) {
        b.c_birth.append_null();
    } else {
        let age_days = (18.0 * 365.0 + random.unit() * 55.0 * 365.0) as i64;
        b.c_birth.append_value((as_of - age_days) as i32);
    }
    if random.chance(0.06) {
        b.c_gender.append_null();
    } else {
        b.c_gender
            .append_value(*random.weighted(&[("F", 56.0), ("M", 42.0), ("X", 2.0)]));
    }
    let (country, city_known) = if random.chance(0.03) {
        ("BE", false)
    } else {
        ("FR", !random.chance(0.04))
    };
    if city_known {
        b.c_city.append_value(city);
        b.c_region.append_value(region);
        b.c_postal
            .append_value(format!("{postal}{:03}", random.below(1000)));
    } else {
        b.c_city.append_null();
        b.c_region.append_null();
        b.c_postal.append_null();
    }
    b.c_country.append_value(country);
    b.c_acquisition
        .append_value(*random.weighted(&model::ACQUISITION));
    b.c_store.append_value(member.profile.home_store as i32);
    b.c_optin_email.append_value(member.optin_email);
    if random.chance(0.05) {
        b.c_optin_sms.append_null();
    } else {
        b.c_optin_sms.append_value(random.chance(0.35));
    }
    b.c_tier.append_value(loyalty_tier(totals.spend_12m));
    b.c_points.append_value(totals.points);
    b.c_email
        .append_value(format!("member{}@example.invalid", member.id));
}

/// The loyalty tier earned by a spend over the last 12 months, in cents.
fn loyalty_tier(spend_12m: i128) -> &'static str {
    match spend_12m {
        s if s >= 150_000 => "platinum",
        s if s >= 60_000 => "gold",
        s if s >= 20_000 => "silver",
        _ => "bronze",
    }
}
