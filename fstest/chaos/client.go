package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"time"

	"github.com/rclone-fichier/rclone-fichier/backend/fichier/api"
)

// otherClient is another client of the accounts, calling the API
// straight: what a user does on the website or another machine does.
// It spaces its calls two (scaled) seconds apart, and is used only while
// no rclone process runs, so it breaks no rate rule and takes no part
// in theirs.
type otherClient struct {
	apiURL string
	keys   []string
	gap    time.Duration
	http   *http.Client
	seed   int64
}

// do makes one API call with key k (1-based).
func (c *otherClient) do(k int, method, url string, body io.Reader, contentType string, out any) error {
	time.Sleep(c.gap)
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.keys[k-1])
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("JSON", "1")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusFound {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: %w: %s", url, err, data)
	}
	return nil
}

// call makes one JSON API call.
func (c *otherClient) call(k int, endpoint string, req any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	var status api.Status
	if err := c.do(k, http.MethodPost, c.apiURL+"/"+endpoint, bytes.NewReader(body), "application/json", &status); err != nil {
		return err
	}
	if status.Status != "OK" {
		return fmt.Errorf("%s: %s %s", endpoint, status.Status, status.Message)
	}
	return nil
}

// apply makes change x in worker w's folder, finding the IDs in m.
func (c *otherClient) apply(x ExtChange, w *Worker, m *metaDoc) error {
	owner, prefix := emailOf(w.Key), w.Name()+"/"
	files := m.stored(owner)
	switch x.Kind {
	case ExtDeleteFile:
		return c.removeFiles(w.Key, files[prefix+x.Path])
	case ExtDeleteFolder:
		return c.removeFolder(w.Key, owner, prefix+x.Path, files, m)
	case ExtMoveFile:
		src := files[prefix+x.Path]
		dir, ok := m.folderID(owner, path.Dir(prefix+x.To))
		if len(src) != 1 || !ok {
			return fmt.Errorf("%s: %d files, folder of %s found: %v", x.Path, len(src), x.To, ok)
		}
		return c.call(w.Key, "file/mv.cgi", api.MoveFileRequest{URLs: []string{src[0].URL()},
			DestinationFolderID: int(dir), Rename: path.Base(x.To)})
	case ExtAddFile:
		dir, ok := m.folderID(owner, path.Dir(prefix+x.To))
		if !ok {
			return fmt.Errorf("no folder %s", path.Dir(prefix+x.To))
		}
		return c.upload(w.Key, dir, path.Base(x.To), x.Data.Bytes(c.seed))
	}
	return fmt.Errorf("unknown change %q", x.Kind)
}

// removeFiles deletes files with one file/rm.cgi.
func (c *otherClient) removeFiles(k int, files []*metaFile) error {
	if len(files) == 0 {
		return nil
	}
	var req api.RemoveFileRequest
	for _, f := range files {
		req.Files = append(req.Files, api.RemoveFile{URL: f.URL()})
	}
	return c.call(k, "file/rm.cgi", req)
}

// removeFolder deletes the folder at dir and all it holds, as a user on
// the website does: its files, then its folders from the deepest.
func (c *otherClient) removeFolder(k int, owner, dir string, files map[string][]*metaFile, m *metaDoc) error {
	var inside []*metaFile
	for p, fs := range files {
		if len(p) > len(dir) && p[:len(dir)+1] == dir+"/" {
			inside = append(inside, fs...)
		}
	}
	if err := c.removeFiles(k, inside); err != nil {
		return err
	}
	for _, id := range m.subFolders(owner, dir) {
		if err := c.call(k, "folder/rm.cgi", api.RemoveFolderRequest{FolderID: int(id)}); err != nil {
			return err
		}
	}
	return nil
}

// upload stores data as name in folder dir, without looking for a file
// of that name first.
func (c *otherClient) upload(k int, dir int64, name string, data []byte) error {
	var node api.UploadServerResponse
	if err := c.do(k, http.MethodGet, c.apiURL+"/upload/get_upload_server.cgi", nil, "application/json", &node); err != nil {
		return err
	}
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	if err := mw.WriteField("did", strconv.FormatInt(dir, 10)); err != nil {
		return err
	}
	part, err := mw.CreateFormFile("file[]", name)
	if err != nil {
		return err
	}
	if _, err := part.Write(data); err != nil {
		return err
	}
	if err := mw.Close(); err != nil {
		return err
	}
	root := "http://" + node.URL
	if err := c.do(k, http.MethodPost, root+"/upload.cgi?id="+node.ID, &form, mw.FormDataContentType(), nil); err != nil {
		return err
	}
	var end api.EndUploadResponse
	if err := c.do(k, http.MethodGet, root+"/end.pl?xid="+node.ID, nil, "application/json", &end); err != nil {
		return err
	}
	if len(end.Links) != 1 {
		return fmt.Errorf("end.pl: %d links for 1 file", len(end.Links))
	}
	return nil
}
