// Package api has the types used by the 1fichier API (https://1fichier.com/api.html).
//
// The API is inconsistent about types: the same field can arrive as a
// number in one answer and as a string in another (end.pl's "size",
// user/info.cgi's flags). Such fields use Int, which decodes either.
package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Int is an integer the API may send as a JSON number, a numeric string,
// an empty string or null.
type Int int64

// UnmarshalJSON decodes a number, a numeric string, "" or null.
func (i *Int) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*i = 0
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		data = []byte(strings.TrimSpace(s))
		if len(data) == 0 {
			*i = 0
			return nil
		}
	}
	// Numbers may come with a fraction (e.g. CDN credits in GB)
	v, err := strconv.ParseInt(string(data), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(data), 64)
		if ferr != nil {
			return fmt.Errorf("can't decode %q as a number: %w", data, err)
		}
		v = int64(f)
	}
	*i = Int(v)
	return nil
}

// TimeFormat is the layout of every date in the API. The zone is not
// sent: it is the service's local time (Europe/Paris).
const TimeFormat = "2006-01-02 15:04:05"

// Time is a date as the API sends it.
type Time string

// Parse returns the date as a time.Time in loc, or the zero time if the
// API sent nothing usable.
func (t Time) Parse(loc *time.Location) time.Time {
	parsed, err := time.ParseInLocation(TimeFormat, strings.TrimSpace(string(t)), loc)
	if err != nil {
		return time.Time{}
	}
	return parsed
}

// Status is the envelope most answers carry. Some successful answers
// (get_upload_server.cgi, end.pl, file/info.cgi) have no status at all.
type Status struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// Err returns the KO as an *Error, or nil if the answer is not a KO.
func (s *Status) Err() error {
	if strings.EqualFold(s.Status, "KO") {
		return &Error{Status: s.Status, Message: s.Message}
	}
	return nil
}

// File is a file in file/ls.cgi and folder/ls.cgi listings and the answer of file/info.cgi.
type File struct {
	URL      string `json:"url"`
	Filename string `json:"filename"`
	Size     Int    `json:"size"`
	Date     Time   `json:"date"`
	Checksum string `json:"checksum"`
	// Listings spell it with a hyphen; file/info.cgi may use an underscore.
	ContentType  string `json:"content-type"`
	ContentType2 string `json:"content_type"`
	Pass         Int    `json:"pass"`
}

// MimeType returns the content type whichever spelling the API used.
func (f *File) MimeType() string {
	if f.ContentType != "" {
		return f.ContentType
	}
	return f.ContentType2
}

// FileListRequest is the request of file/ls.cgi.
type FileListRequest struct {
	FolderID int `json:"folder_id"`
}

// FileListResponse is the answer of file/ls.cgi.
type FileListResponse struct {
	Status
	Items []File `json:"items"`
}

// FolderListRequest is the request of folder/ls.cgi.
type FolderListRequest struct {
	FolderID int `json:"folder_id"`
	Files    int `json:"files,omitempty"` // 1: also return the files in Items
}

// SubFolder is a folder inside a folder/ls.cgi answer. Note "id" here
// but "folder_id" at the top level of the answer.
type SubFolder struct {
	ID         int    `json:"id"`
	Name       string `json:"name"`
	CreateDate Time   `json:"create_date"`
	Pass       Int    `json:"pass"`
}

// FolderListResponse is the answer of folder/ls.cgi.
type FolderListResponse struct {
	Status
	FolderID   int         `json:"folder_id"`
	Name       string      `json:"name"`
	SubFolders []SubFolder `json:"sub_folders"`
	// Items is nil when the answer has no "items" key (files:1 not honoured).
	Items *[]File `json:"items"`
}

// RemoveFile is one file to delete in file/rm.cgi.
type RemoveFile struct {
	URL string `json:"url"`
}

// RemoveFileRequest is the request of file/rm.cgi.
type RemoveFileRequest struct {
	Files []RemoveFile `json:"files"`
}

// RemoveFileResponse is the answer of file/rm.cgi.
type RemoveFileResponse struct {
	Status
	Removed Int `json:"removed"`
}

// MoveFileRequest is the request of file/mv.cgi. Rename only works with
// exactly one URL, and must not be the file's current name.
type MoveFileRequest struct {
	URLs                []string `json:"urls"`
	DestinationFolderID int      `json:"destination_folder_id"`
	Rename              string   `json:"rename,omitempty"`
}

// MoveFileResponse is the answer of file/mv.cgi.
type MoveFileResponse struct {
	Status
	Moved    Int      `json:"moved"`
	URLs     []string `json:"urls"`
	Filename string   `json:"filename"`
}

// CopyFileRequest is the request of file/cp.cgi.
type CopyFileRequest struct {
	URLs     []string `json:"urls"`
	FolderID int      `json:"folder_id"`
	Rename   string   `json:"rename,omitempty"`
	Pass     string   `json:"pass,omitempty"`
}

// CopiedURL maps a source file to its copy in file/cp.cgi.
type CopiedURL struct {
	FromURL string `json:"from_url"`
	ToURL   string `json:"to_url"`
}

// CopyFileResponse is the answer of file/cp.cgi.
type CopyFileResponse struct {
	Status
	Copied   Int         `json:"copied"`
	URLs     []CopiedURL `json:"urls"`
	Filename string      `json:"filename"`
}

// RenameFile is one file to rename in file/rename.cgi.
type RenameFile struct {
	URL      string `json:"url"`
	Filename string `json:"filename"`
}

// RenameFileRequest is the request of file/rename.cgi.
type RenameFileRequest struct {
	URLs []RenameFile `json:"urls"`
}

// RenameFileResponse is the answer of file/rename.cgi.
type RenameFileResponse struct {
	Status
	Renamed Int `json:"renamed"`
}

// MakeFolderRequest is the request of folder/mkdir.cgi.
type MakeFolderRequest struct {
	Name     string `json:"name"`
	FolderID int    `json:"folder_id"`
}

// MakeFolderResponse is the answer of folder/mkdir.cgi.
type MakeFolderResponse struct {
	Status
	FolderID int    `json:"folder_id"`
	Name     string `json:"name"`
}

// RemoveFolderRequest is the request of folder/rm.cgi.
type RemoveFolderRequest struct {
	FolderID int `json:"folder_id"`
}

// MoveFolderRequest is the request of folder/mv.cgi. Sources disagree on
// whether a rename may be combined with a move, so we never combine them:
// either DestinationFolderID or Rename is set.
type MoveFolderRequest struct {
	FolderID            int    `json:"folder_id"`
	DestinationFolderID *int   `json:"destination_folder_id,omitempty"`
	Rename              string `json:"rename,omitempty"`
}

// ShareFolderRequest is the request of folder/share.cgi.
type ShareFolderRequest struct {
	FolderID int `json:"folder_id"`
	Share    int `json:"share"`
}

// ShareFolderResponse is the answer of folder/share.cgi.
type ShareFolderResponse struct {
	Status
	URL string `json:"url"`
}

// FileInfoRequest is the request of file/info.cgi; its answer is a File
// (with no status key on success).
type FileInfoRequest struct {
	URL  string `json:"url"`
	Pass string `json:"pass,omitempty"`
}

// GetTokenRequest is the request of download/get_token.cgi.
type GetTokenRequest struct {
	URL    string `json:"url"`
	Single int    `json:"single"`
	Pass   string `json:"pass,omitempty"`
	CDN    int    `json:"cdn,omitempty"`
}

// GetTokenResponse is the answer of download/get_token.cgi.
type GetTokenResponse struct {
	Status
	URL string `json:"url"`
}

// UploadServerResponse is the answer of upload/get_upload_server.cgi.
// URL is a bare host name such as "up2.1fichier.com".
type UploadServerResponse struct {
	Status
	URL string `json:"url"`
	ID  string `json:"id"`
}

// UploadedLink is one uploaded file in the answer of end.pl.
type UploadedLink struct {
	Download  string `json:"download"`
	Filename  string `json:"filename"`
	Remove    string `json:"remove"`
	Size      Int    `json:"size"` // sent as a string
	Whirlpool string `json:"whirlpool"`
}

// EndUploadResponse is the answer of end.pl (with the "JSON: 1" header).
type EndUploadResponse struct {
	Incoming Int            `json:"incoming"`
	Links    []UploadedLink `json:"links"`
}

// SharedFile is one entry of a public shared-folder listing
// (https://1fichier.com/dir/<id>?json=1).
type SharedFile struct {
	Filename string `json:"filename"`
	Link     string `json:"link"`
	Size     Int    `json:"size"`
	Password Int    `json:"password"`
	ACL      Int    `json:"acl"`
}

// UserInfo is the answer of user/info.cgi. Flag fields have been seen as
// strings and as numbers, so all of them are Int.
type UserInfo struct {
	Status
	Email                string `json:"email"`
	Offer                Int    `json:"offer"` // 0 none, 1 Premium, 2 Access
	SubscriptionEnd      Time   `json:"subscription_end"`
	TwoFactor            Int    `json:"2fa"`
	CDN                  Int    `json:"cdn"`
	UseCDN               Int    `json:"use_cdn"`
	HotStorage           Int    `json:"hot_storage"`
	ColdStorage          Int    `json:"cold_storage"`
	AvailableStorage     Int    `json:"available_storage"`
	AvailableColdStorage Int    `json:"available_cold_storage"`
	AllowedColdStorage   Int    `json:"allowed_cold_storage"`
	Overquota            Int    `json:"overquota"`
	UploadForbidden      Int    `json:"upload_forbidden"`
}

// OfferName names an offer code of user/info.cgi.
func OfferName(offer Int) string {
	switch offer {
	case 1:
		return "Premium"
	case 2:
		return "Access"
	default:
		return "none (free account)"
	}
}

// RemoteUploadRequest is the request of remote/request.cgi.
type RemoteUploadRequest struct {
	URLs     []string          `json:"urls"`
	FolderID int               `json:"folder_id"`
	Headers  map[string]string `json:"headers,omitempty"`
}

// RemoteUploadResponse is the answer of remote/request.cgi.
type RemoteUploadResponse struct {
	Status
	ID Int `json:"id"`
}

// Error is a KO answer from the API, or an HTTP error whose body could be read.
type Error struct {
	Status     string `json:"status"`
	Message    string `json:"message"`
	HTTPStatus int    `json:"-"`
}

// Error returns the API's message, which is what users search for.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "request failed with no message"
	}
	if e.HTTPStatus != 0 {
		return fmt.Sprintf("1fichier: %s (HTTP %d)", msg, e.HTTPStatus)
	}
	return "1fichier: " + msg
}

// Kind is what an error means to a client.
type Kind int

// The kinds of API error. They are told apart by the message text,
// because the "#NNN" numbers change over time for the same condition.
const (
	KindOther       Kind = iota // unknown: retried if the HTTP status says so
	KindFlood                   // rate limit hit: wait for the lock to end
	KindBadKey                  // the API key is unknown or revoked
	KindNotCustomer             // a free account: the API needs Premium or Access
	KindForbidden               // owner locked, ACL or private file
	KindPassword                // missing or wrong password
	KindLocation                // account used from another IP
	KindCDN                     // datacenter IP: CDN credits needed
	KindNotFound                // no such file or folder
	KindNotEmpty                // folder not empty
	KindNothingDone             // e.g. rename to the same name
	KindExists                  // a folder of that name is already there
	KindBadName                 // a name 1fichier refuses: too long, a forbidden character
)

// Kind classifies the error by its message text.
func (e *Error) Kind() Kind {
	m := strings.ToLower(e.Message)
	switch {
	case strings.Contains(m, "flood"), strings.Contains(m, "ip locked"), strings.Contains(m, "user locked"):
		return KindFlood
	case strings.Contains(m, "no such user"), strings.Contains(m, "not authenticated"):
		return KindBadKey
	case strings.Contains(m, "must be a customer"):
		return KindNotCustomer
	case strings.Contains(m, "password"):
		return KindPassword
	case strings.Contains(m, "location"):
		return KindLocation
	case strings.Contains(m, "cdn"):
		return KindCDN
	case strings.Contains(m, "owner locked"), strings.Contains(m, "not allowed"):
		return KindForbidden
	case strings.Contains(m, "not found"), strings.Contains(m, "no such"), strings.Contains(m, "not exist"):
		return KindNotFound
	case strings.Contains(m, "not empty"), strings.Contains(m, "non-empty"), strings.Contains(m, "non empty"):
		return KindNotEmpty
	case strings.Contains(m, "has been renamed"):
		return KindNothingDone
	case strings.Contains(m, "already exists"):
		return KindExists
	// 1fichier's own text for a refused name is not known; the emulator
	// says "Invalid name: ...", and any such answer is final.
	case strings.Contains(m, "invalid name"), strings.Contains(m, "name too long"), strings.Contains(m, "forbidden character"):
		return KindBadName
	case m == "" && e.HTTPStatus == 404:
		return KindNotFound
	}
	return KindOther
}

// Fatal reports whether retrying can never help.
func (k Kind) Fatal() bool {
	switch k {
	case KindBadKey, KindNotCustomer, KindForbidden, KindPassword, KindCDN, KindNotFound, KindNotEmpty, KindNothingDone, KindExists, KindBadName:
		return true
	}
	return false
}

// Advice says what the user can do about an error of this kind, or "".
func (k Kind) Advice() string {
	switch k {
	case KindBadKey:
		return "check the api_key (create one at https://1fichier.com/console/params.pl); if 1fichier " +
			"asked for a password reset, log in on the website first"
	case KindNotCustomer:
		return "the 1fichier API is only open to Premium and Access accounts"
	case KindForbidden:
		return "the file's owner or its access rules do not allow this"
	case KindPassword:
		return "set file_password or folder_password to the right password"
	case KindCDN:
		return "1fichier refuses premium downloads from datacenter or VPN addresses: set cdn = true to use CDN credits"
	case KindLocation:
		return "the account is in use from another IP address; wait a few minutes"
	case KindBadName:
		return "rename it, or store it through crypt with filename_encoding = base32768 (see the crypt section of the fichier docs)"
	}
	return ""
}

// RemoteJob is one remote upload in the answer of remote/ls.cgi.
// ExecutionDate stays empty while the job runs.
type RemoteJob struct {
	ID            Int  `json:"id"`
	RequestDate   Time `json:"request_date"`
	ExecutionDate Time `json:"execution_date"`
}

// RemoteListResponse is the answer of remote/ls.cgi.
type RemoteListResponse struct {
	Status
	Data []RemoteJob `json:"data"`
}

// RemoteInfoRequest is the request of remote/info.cgi.
type RemoteInfoRequest struct {
	ID int64 `json:"id"`
}

// RemoteResult is the outcome of one URL of a remote upload, in the
// answer of remote/info.cgi.
type RemoteResult struct {
	Status       string `json:"status"`
	URL          string `json:"url"`
	DownloadLink string `json:"download_link"`
	Message      string `json:"message"`
}

// RemoteInfoResponse is the answer of remote/info.cgi. Result has an
// entry for each URL fetched so far.
type RemoteInfoResponse struct {
	Status
	RemoteJob
	Links  []string       `json:"links"`
	Result []RemoteResult `json:"result"`
}

// ACL is the access list of a file in file/chattr.cgi (and file/info.cgi).
// An empty ACL removes the restrictions.
type ACL struct {
	IP      []string `json:"ip,omitempty"`
	Country []string `json:"country,omitempty"`
	Email   []string `json:"email,omitempty"`
	Premium int      `json:"premium,omitempty"`
}

// ChattrRequest is the request of file/chattr.cgi. Only the fields that
// are set are changed: Pass "" removes the password, an empty ACL the
// access list.
type ChattrRequest struct {
	URLs []string `json:"urls"`
	Pass *string  `json:"pass,omitempty"`
	ACL  *ACL     `json:"acl,omitempty"`
}

// ChattrResponse is the answer of file/chattr.cgi.
type ChattrResponse struct {
	Status
	Updated Int      `json:"updated"`
	URLs    []string `json:"urls"`
}

// ScanRequest is the request of file/scan.cgi.
type ScanRequest struct {
	URL string `json:"url"`
}

// ScanResponse is the answer of file/scan.cgi. Date is set when the
// result comes from 1fichier's cache (results are kept 6 hours).
type ScanResponse struct {
	Status
	Date Time `json:"date"`
}

// SharePasswordRequest is the request of folder/share.cgi that sets or
// (with Pass "") removes the password of a folder's public share.
type SharePasswordRequest struct {
	FolderID int    `json:"folder_id"`
	Share    int    `json:"share"`
	Pass     string `json:"pass"`
}

// FolderInfoRequest is the request of folder/ls.cgi for a folder's own
// details, without its files.
type FolderInfoRequest struct {
	FolderID int `json:"folder_id"`
}

// FolderInfoResponse is the part of the answer of folder/ls.cgi about the
// folder itself: its public share link (Shared, empty when not shared)
// and whether that share has a password.
type FolderInfoResponse struct {
	Status
	FolderID int    `json:"folder_id"`
	Name     string `json:"name"`
	Shared   string `json:"shared"`
	Pass     Int    `json:"pass"`
}
