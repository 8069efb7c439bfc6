// Package emulator is an offline emulator of the 1fichier.com API v1,
// its upload nodes, its download hosts and the website's shared-folder
// pages, for tests, benchmarks and demos.
//
// It follows what is known of the real API from its documentation page
// (https://1fichier.com/api.html), from clients that work against the
// live service (rclone, JDownloader and others) and from captured
// traffic; nothing here was checked against the live service. It is built like net/http/httptest: a Server made from
// Options is a plain http.Handler with no global state, so any number
// can run in parallel tests; NewTestServer starts one on a loopback port
// for the life of a test.
//
// # Routes
//
// One handler serves every role, routed by path:
//
//	POST /v1/<group>/<action>.cgi   the API (Authorization: Bearer <key>)
//	POST /upload.cgi?id=<xid>       upload node
//	GET  /end.pl?xid=<xid>          upload node, result ("JSON: 1" header)
//	GET  /dl/<token>                download host (from get_token.cgi)
//	GET|POST /dir/<id>[?json=1]     website: public shared folder
//	GET  /debug/stats               Stats as JSON; POST or DELETE resets
//
// Hosts handed out follow the request's Host: behind the CONNECT proxy
// (a Host ending in 1fichier.com) they are real-looking names
// (up2.1fichier.com, https://a-4.1fichier.com/dl/<token>), otherwise the
// emulator's own host:port. File URLs are always
// https://1fichier.com/?<10 lowercase alphanumerics>; shared folders
// https://1fichier.com/dir/<8 mixed-case alphanumerics>.
//
// # Conventions reproduced
//
// Each quirk is commented where it is implemented, with its source:
// documented (api.html), observed (real traffic or code that works
// against the live service), or assumed.
//
// Comments use these tags for their sources:
//
//   - [doc]: 1fichier's own API page, https://1fichier.com/api.html,
//     read directly or as quoted in rclone's code and issues.
//   - [obs]: observed: seen in captured real traffic, or done by a
//     client that works against the live service. The clients are
//     named: rclone (its fichier backend, its issues and history) and JD.
//   - [para]: a third-party paraphrase of api.html (SW, RB or CS). A
//     value only SW gives is probable, not confirmed.
//   - [inf]: our own inference, the weakest source.
//   - SW: a 2025 third-party OpenAPI description of the API, written for
//     a TypeScript client; it calls itself official but is not.
//   - RB: the README and code of a third-party Ruby client library.
//   - CS: the comments and code of a third-party C# client library (its
//     date handling shows the French time zone).
//   - JD: JDownloader's 1fichier plugin, which downloads through the
//     live API and handles its errors and flood locks.
//   - PL: a pyLoad maintainer's report of flood locks when the API is
//     called more than about once a minute.
//   - PHP: a third-party PHP client and its wiki, with masked dumps of
//     real answers.
//
// "Assumed" marks a choice no source settles (see the stricter
// readings below). The conventions, in short:
//
//   - Every API call needs "Authorization: Bearer <key>" and
//     "Content-Type: application/json" (clients send it on every call,
//     even GET; we refuse calls without it). The body must be a JSON
//     object; an empty or non-JSON body is a KO, except user/info.cgi,
//     remote/ls.cgi and vouchers/ls.cgi (no body or "" accepted) and
//     upload/get_upload_server.cgi (GET, no body, no key needed). A
//     number may be sent as a decimal string ({"id":"100000"}), as some
//     clients do; Options.NumberStrings = NumberStringsRefuse refuses it.
//   - Errors are {"status":"KO","message":"<text> #<n>"} with a non-2xx
//     HTTP code. Numbers that were seen live are used (#93, #200, #312,
//     #374, #469, #631); the others are ours. Clients must match on text.
//   - Listings: "content-type" with a hyphen; folder/ls.cgi has
//     "folder_id" at the top and "id" in "sub_folders"; the root is named
//     "Root" with "size":null; "items" only with files:1; dates
//     "YYYY-MM-DD HH:MM:SS" in Europe/Paris time; at most 5000 entries
//     per list (the rest is cut silently).
//   - Whirlpool checksums (lowercase hex) are computed while an upload
//     streams; nothing is buffered whole except in the memory store.
//   - Duplicate file names are allowed; names are case-sensitive.
//   - upload.cgi needs a Content-Length (chunked is refused with 411),
//     answers 302 to /end.pl?xid=<id>; end.pl answers JSON only with the
//     "JSON: 1" header and "size" is a string there. Otherwise it
//     answers the HTML page clients parse: a table with class="premium",
//     a header row, then per file its name, size, download link and
//     removal link, each in a <td class="normal"> cell. An invalid "did"
//     silently means the root (documented).
//   - vouchers/ls.cgi, check.cgi and use.cgi follow SW's shapes (the
//     only source); using a voucher only marks it used. They have no
//     rate rule of their own beyond CallsPerSecond.
//   - Download URLs live 5 minutes (TokenLifetime), honour Range (206,
//     Content-Range, 416) and with single:1 serve one request only.
//
// # Choices where the notes are uncertain (the stricter reading)
//
//   - HTTP codes of KOs: 401 for "Not authenticated" and "No such user
//     #93"; 403 for "Must be a customer #200", floods, password and ACL
//     refusals ("Resource not allowed #631") and quota; 404 for
//     "Resource not found #469"; 400 for bad requests and refused
//     operations; 405 for a wrong method. No KO is sent with HTTP 200.
//   - Wrong or missing file password: "Invalid password. Resource not
//     allowed #631" / "Password not provided. Resource not allowed #631"
//     (the forms JDownloader matches). The owner needs no password.
//   - file/info.cgi has no "status" key, spells the MIME type
//     "content_type" (underscore, as SW says; listings use the hyphen)
//     and gives "acl" as an object.
//   - file/mv.cgi keeps the moved file's URL, as the evidence says the
//     service does (Options.MoveChangesURL gives a new one instead).
//     "destination_folder_id" is required. "rename" works only with exactly one URL, and renaming to
//     the current name answers "No file has been renamed #312", as does
//     file/rename.cgi when nothing changes.
//   - mv, cp, rename, chattr and rm are all-or-nothing: one bad URL
//     refuses the whole call.
//   - folder/mv.cgi with a non-empty "rename" only renames and ignores
//     the destination (SW's reading); rename to the same name is a KO.
//   - folder/mkdir.cgi refuses a name already used by a sibling folder.
//   - folder/rm.cgi on a non-empty folder answers a bare {"status":"KO"}
//     (no message, as early rclone saw); files still hidden by
//     ListingDelay make a folder non-empty.
//   - Names with \ < > " ' $ ` / ´, control characters, invalid UTF-8 or
//     a leading/trailing space are refused, not mangled.
//   - 0-byte uploads are refused (unconfirmed on the real service). An
//     upload whose body is cut short leaves no file. 300 GB per file,
//     500 GB per request, 500 files per request.
//   - end.pl's JSON and EXPORT switches work as headers (what clients
//     send), not as query parameters (SW's form, never seen used);
//     Options.QuerySwitches = QuerySwitchesHonour takes both.
//   - Download: unknown token 404; expired or used-up token 410 Gone.
//     single:1 means one HTTP request of any kind (HEAD included).
//   - user/info.cgi returns flag fields as strings and storage fields as
//     numbers (the mix seen in rclone's struct). What follows what is
//     stored: cold_storage (bytes used), available_storage (the quota
//     left, negative past it: SW's "available (or excess) quota"),
//     overquota and upload_forbidden; the quota (Account.ColdQuota, the
//     CLI's --quota) is allowed_cold_storage and available_cold_storage.
//   - Eventual consistency (ListingDelay) hides new files from listings
//     (file/ls, folder/ls, /dir) only; file/info, get_token, and rm see
//     them at once.
//
// # Rate rules
//
// On by default with the documented numbers (DefaultRates); every
// number is configurable and TimeScale divides every duration. Per key:
// at most CallsPerSecond calls in any sliding 1 s window (all /v1 calls
// plus upload.cgi and end.pl of the key's sessions; downloads and /dir
// are not counted); one listing of the same folder per
// FolderListInterval (folder/ls.cgi and file/ls.cgi share the slot;
// Options.ListRule = ListRuleEndpoint gives each endpoint its own);
// file/ls.cgi with folder_id -1 once per AllFilesListInterval;
// user/info.cgi once per UserInfoPerIP per client IP and once per
// UserInfoPerUser per key. Breaking any rule answers HTTP 403
// {"status":"KO","message":"Flood detected: IP Locked #374"} and locks the
// key for LockDuration (5 minutes by default: JDownloader's observed
// back-off for this message); every call during the lock gets the same
// answer and does not extend it. A refused call does not use up a slot.
//
// # Time scale header
//
// With a TimeScale other than 1, every answer (API, upload node,
// download host, website, /debug) carries the header X-Time-Scale
// (TimeScaleHeader) with the factor, as strconv.FormatFloat writes it:
// "X-Time-Scale: 20". It is the emulator's test-mode extension, not part
// of 1fichier's API, which never sends it. It lets a client that knows
// 1fichier's clocks without being told them (a download URL's five
// minutes, user/info's spacing) run them as fast as the emulator does,
// with no option of its own. At real time no header is sent.
//
// # Faults
//
// Options.Faults / Server.Faults() inject failures, scripted per
// endpoint and drawn from a generator seeded by Options.Seed; see
// ParseFaults for the grammar used by the CLI's --faults flag (and
// FaultsHelp, which the CLI's help prints). The
// kinds: HTTP 500/502/503 with nginx's HTML page; a reset before any
// work (reset-before); the work done and half the answer sent
// (reset-during); the work done and no answer at all (reset-after); a
// reset halfway through an upload body (reset-mid); end.pl answering
// HTML, no links, or one link fewer than the files (end-html, end-empty,
// end-short); slow answers (slow).
//
// # Connection timeouts
//
// Clients that stall cannot hold connections open: request headers must
// arrive within ReadHeaderTimeout, a request body that sends nothing for
// BodyIdleTimeout is cut (408; a slow body that keeps moving never is)
// and keep-alive connections idle for IdleTimeout are closed. The
// defaults are nginx's (60 s, 60 s, 75 s); TimeScale leaves them alone.
// The body timeout is applied by the handler on any http.Server; the
// other two need NewHTTPServer (NewTestServer uses it).
//
// # Persistence and observability
//
// With Options.DataDir, contents go to DIR/blobs and metadata to
// DIR/meta.json after each change, so a new Server on the same
// directory finds everything again (upload sessions and download tokens
// are not kept). Stats counts calls per endpoint, flood locks and
// refusals, broken rate rules by rule, download-host refusals by reason
// (unknown, expired or used-up token, file gone), bytes in and out, and per
// account the most calls seen in any sliding window of one second (one
// scaled second with a TimeScale: the CallsPerSecond rule's window), so
// tests can assert pacing directly; Options.Log gets one line per
// request with the API key masked.
//
// # Test helpers
//
// AddAccount, Mkdir, PutFile, ShareFolder, AddVoucher, Lookup, Files,
// FileData, FileCount and VoucherUsedBy seed and inspect the emulator from Go without API calls
// (no stats, no rate rules).
package emulator
