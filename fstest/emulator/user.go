package emulator

import (
	"encoding/json"
	"maps"
	"strconv"
)

// user/info.cgi: show or change account settings.

// userSettingFields are the settings a call may change [RB, SW], with
// their defaults.
var userSettingFields = map[string]int64{
	"ftp_mode": 0, "ftp_did": 0, "ftp_report": 0, "ru_report": 0,
	"default_domain": 0, "page_limit": 100, "default_port": 0,
	"default_port_files": 0, "use_cdn": 0, "download_menu": 0,
}

// userInfoResp follows rclone's AccountInfo struct, which looks made from
// a real answer: the flag fields are strings, the storage fields numbers.
// SW types them all as ints; we keep the observed mix, so a client must
// decode leniently.
type userInfoResp struct {
	Status                  string `json:"status"`
	Email                   string `json:"email"`
	Offer                   string `json:"offer"`
	TwoFA                   string `json:"2fa"`
	SubscriptionEnd         string `json:"subscription_end"`
	MailRM                  string `json:"mail_rm"`
	FTPMode                 string `json:"ftp_mode"`
	FTPDid                  int64  `json:"ftp_did"`
	FTPReport               string `json:"ftp_report"`
	RUReport                string `json:"ru_report"`
	DefaultDomain           int64  `json:"default_domain"`
	PageLimit               int64  `json:"page_limit"`
	DefaultPort             string `json:"default_port"`
	DefaultPortFiles        string `json:"default_port_files"`
	DownloadMenu            string `json:"download_menu"`
	CDN                     string `json:"cdn"` // CDN credits in GB
	UseCDN                  string `json:"use_cdn"`
	DefaultQuota            int64  `json:"default_quota"`
	DefaultColdStorageQuota int64  `json:"default_cold_storage_quota"`
	HotStorage              int64  `json:"hot_storage"`
	ColdStorage             int64  `json:"cold_storage"` // bytes used
	StatsDate               string `json:"stats_date"`
	AllowedColdStorage      int64  `json:"allowed_cold_storage"`
	AvailableStorage        int64  `json:"available_storage"`
	AvailableColdStorage    int64  `json:"available_cold_storage"` // the quota (rclone About: total)
	Overquota               int64  `json:"overquota"`
	UploadForbidden         string `json:"upload_forbidden"`
}

// userInfo answers user/info.cgi: it applies the settings the body
// changes, then reports the account.
func (c *call) userInfo() (any, *apiError) {
	updates, e := c.userSettingUpdates()
	if e != nil {
		return nil, e
	}
	// [para SW; obs JD] 1 call per minute per IP and 1 per 5 minutes per
	// user; JD got "Flood detected: IP Locked #38" when calling faster.
	r := c.s.rates.r
	if !c.s.rates.spaced(c.now,
		spacing{ruleUserInfoIP, c.ip, r.UserInfoPerIP},
		spacing{ruleUserInfoUser, c.key, r.UserInfoPerUser}) {
		return nil, errFlood
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	owner := c.owner()
	set := c.s.st.Users[owner]
	if len(updates) > 0 {
		if set == nil {
			set = userSettings{}
			c.s.st.Users[owner] = set
		}
		maps.Copy(set, updates)
		c.s.changed()
	}
	return c.userInfoAnswer(set), nil
}

// userSettingUpdates reads the settings the body changes; other keys
// are ignored.
func (c *call) userSettingUpdates() (map[string]int64, *apiError) {
	var raw map[string]json.RawMessage
	if e := c.decode(&raw); e != nil {
		return nil, e
	}
	updates := map[string]int64{}
	for k, v := range raw {
		if _, ok := userSettingFields[k]; !ok {
			continue
		}
		var n int64
		if err := c.unmarshal(v, &n); err != nil {
			return nil, errBadParam(k)
		}
		updates[k] = n
	}
	return updates, nil
}

// userInfoAnswer reports the caller's account with its settings set
// (c.s.mu held).
func (c *call) userInfoAnswer(set userSettings) userInfoResp {
	get := func(k string) int64 {
		if v, ok := set[k]; ok {
			return v
		}
		return userSettingFields[k]
	}
	str := func(k string) string { return strconv.FormatInt(get(k), 10) }
	owner := c.owner()
	used := c.s.usedBytes(owner)
	// What follows what is stored [RB struct, SW]: cold_storage is the
	// bytes used; available_storage, "available (or excess) quota", is
	// what is left of the quota, negative past it; overquota is the
	// excess and upload_forbidden says there is one. The quota itself is
	// allowed_cold_storage, and available_cold_storage, which rclone's
	// About reads as the total, stays the quota too.
	avail := c.acct.ColdQuota - used
	over := max(-avail, 0)
	return userInfoResp{
		Status:                  "OK",
		Email:                   owner,
		Offer:                   strconv.Itoa(int(c.acct.Offer)),
		TwoFA:                   "0",
		SubscriptionEnd:         fmtDate(c.acct.SubscriptionEnd),
		MailRM:                  "0",
		FTPMode:                 str("ftp_mode"),
		FTPDid:                  get("ftp_did"),
		FTPReport:               str("ftp_report"),
		RUReport:                str("ru_report"),
		DefaultDomain:           get("default_domain"),
		PageLimit:               get("page_limit"),
		DefaultPort:             str("default_port"),
		DefaultPortFiles:        str("default_port_files"),
		DownloadMenu:            str("download_menu"),
		CDN:                     strconv.FormatInt(c.acct.CDNCredits/1e9, 10),
		UseCDN:                  str("use_cdn"),
		DefaultQuota:            c.acct.HotQuota,
		DefaultColdStorageQuota: c.acct.ColdQuota,
		HotStorage:              0,
		ColdStorage:             used,
		StatsDate:               fmtDate(c.now),
		AllowedColdStorage:      c.acct.ColdQuota,
		AvailableStorage:        avail,
		AvailableColdStorage:    c.acct.ColdQuota,
		Overquota:               over,
		UploadForbidden:         strconv.Itoa(b2i(over > 0)),
	}
}
