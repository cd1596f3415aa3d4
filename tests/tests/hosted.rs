//! The hosted service end to end on the embedded server (SQLite): the story
//! in `weft_tests::hosted` (operator, owner, member, viewer, suspend and
//! resume). The same story runs on PostgreSQL, RabbitMQ and Redis in
//! `host/cli/tests/distributed.rs` (`h1_…`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use weft_tests::TestApp;

#[tokio::test]
async fn an_operator_and_a_team_live_the_hosted_story() {
    let app = TestApp::builder().start().await;
    weft_tests::hosted::operator_story(&app.base, &app.operator, &app.key).await;
}
