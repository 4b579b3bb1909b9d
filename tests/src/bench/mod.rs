//! The master's launch-throughput benchmark (`corral-master-bench`): a
//! lean simulated agent fleet ([`fleet`], each agent in `agent`) and a Mesos framework
//! ([`framework`]), each one thread over epoll ([`poll`]) with pipelined
//! non-blocking HTTP/1.1 connections ([`conn`]), so the bench spends as
//! little CPU as it can beside the master it measures; [`report`] reads
//! CPU times and load and computes percentiles.

mod agent;
pub mod conn;
pub mod fleet;
pub mod framework;
pub mod poll;
pub mod report;

#[cfg(test)]
mod tests;
