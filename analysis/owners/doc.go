// Package owners reads the ownership file: which team owns each service,
// and where that team is paged. The tools that name a team read it —
// `flowtrace triage` (the team of the blamed service), `flowtrace slo
// rules` (team and channel labels on recording rules and alerts) and the
// coverage report — through the `--owners FILE` flag or the
// FLOWTRACE_OWNERS environment variable (the flag wins).
//
// The file is YAML:
//
//	services:
//	  catalog: {team: catalog-team, channel: "#catalog-oncall"}
//	  payment-gateway:
//	    team: payments
//	    channel: "https://pager.example.com/payments"   # optional
//
// Parsing is strict: an unknown key, a key given twice, a service without
// a team, or a name outside its bounds (see [MaxServiceLen], [MaxTeamLen],
// [MaxChannelLen]; no control characters, no surrounding blanks) is an
// error that names the file, the line and the field. The file is read
// through internal/safefile: a regular file of at most [MaxFileSize]
// bytes, read within a deadline, so a FIFO or /dev/zero named by mistake
// fails at once instead of hanging or filling memory.
//
// Which wins, the file or a span's `team` attribute: the file, for every
// service it lists; the attribute only for services the file does not
// list. The file is the one reviewed place an organisation changes at a
// re-organisation, while an attribute is baked into each deployed build
// and stays stale until the service is redeployed; and the channel comes
// with the team, so team and channel must come from one source (a file
// channel next to an attribute's team could page the wrong people).
// [Map.Resolve] says which source gave the answer, and a disagreement is
// reported ([Owner.Conflict]) rather than silently dropped. Without a file,
// the attribute is all there is, as before; an uninstrumented service emits
// no attribute, so for it the file is the only source.
//
// A nil *Map is valid and lists nothing. The package reads no environment
// variables itself: [Env] names the variable, and the commands read it.
package owners
