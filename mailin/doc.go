// Package mailin turns a support mailbox into registered tickets: IMAP
// intake with a durable checkpoint, MIME parsing, threading of replies onto
// tickets, sender policy, acknowledgements and other outbound mail through
// the store's outbox, and loop protection.
package mailin
