module github.com/rclone-fichier/rclone-fichier/whirlpool

go 1.26.0

require (
	github.com/jzelinskie/whirlpool v0.0.0-20201016144138-0675e54bb004
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
