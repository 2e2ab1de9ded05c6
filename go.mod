module github.com/portico-gw/portico

go 1.26.8

require (
	github.com/aws/aws-lambda-go v1.55.1
	go.uber.org/goleak v1.3.0
)

require github.com/stretchr/testify v1.12.1 // indirect
