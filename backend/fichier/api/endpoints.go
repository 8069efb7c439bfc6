package api

// Endpoints of the API, under its root (https://api.1fichier.com/v1).
// Each is named after its path; user/info.cgi is UserInfoPath because
// UserInfo is its answer.
const (
	UserInfoPath = "/user/info.cgi"

	FolderLs    = "/folder/ls.cgi"
	FolderMkdir = "/folder/mkdir.cgi"
	FolderRm    = "/folder/rm.cgi"
	FolderMv    = "/folder/mv.cgi"
	FolderShare = "/folder/share.cgi"

	FileLs     = "/file/ls.cgi"
	FileRm     = "/file/rm.cgi"
	FileMv     = "/file/mv.cgi"
	FileCp     = "/file/cp.cgi"
	FileRename = "/file/rename.cgi"
	FileChattr = "/file/chattr.cgi"
	FileScan   = "/file/scan.cgi"
	FileInfo   = "/file/info.cgi"

	DownloadGetToken = "/download/get_token.cgi"

	RemoteRequest = "/remote/request.cgi"
	RemoteInfo    = "/remote/info.cgi"
	RemoteLs      = "/remote/ls.cgi"

	UploadGetServer = "/upload/get_upload_server.cgi"
)

// Paths on the upload server that UploadGetServer names.
const (
	Upload    = "/upload.cgi" // the multipart POST of the files
	UploadEnd = "/end.pl"     // the result of an upload session
)

// SharedFolderPage is the website's public page of a shared folder,
// followed by the folder's ID.
const SharedFolderPage = "/dir/"
