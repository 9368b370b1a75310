package k8stest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Identity of the admin user in the token file. The system:masters group is
// bound to cluster-admin by the apiserver's bootstrap RBAC policy.
const (
	adminUser  = "veltrim-admin"
	adminGroup = "system:masters"
)

// serviceAccountIssuer is the issuer kube-apiserver writes into the
// service-account tokens it signs.
const serviceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// credentials are the files kube-apiserver and its clients need.
type credentials struct {
	serving *ServingCert

	// adminToken authenticates adminUser through tokenFile.
	adminToken string
	tokenFile  string

	// serviceAccountKeyFile holds the ECDSA key that signs service-account
	// tokens. kube-apiserver reads the public half from the same file.
	serviceAccountKeyFile string
}

// writeCredentials creates a serving certificate for loopback, an admin token
// and a service-account signing key in dir.
func writeCredentials(dir string) (*credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}

	serving, err := WriteServingCert(dir)
	if err != nil {
		return nil, err
	}

	tokenBytes := make([]byte, 32)
	if _, err := rand.Read(tokenBytes); err != nil {
		return nil, fmt.Errorf("failed to generate the admin token: %w", err)
	}
	token := hex.EncodeToString(tokenBytes)

	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("failed to generate the service-account key: %w", err)
	}
	saKeyDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, fmt.Errorf("failed to encode the service-account key: %w", err)
	}

	creds := &credentials{
		serving:               serving,
		adminToken:            token,
		tokenFile:             filepath.Join(dir, "tokens.csv"),
		serviceAccountKeyFile: filepath.Join(dir, "service-account.key"),
	}

	// The token file is CSV: token, user name, user UID, "group,group".
	tokenLine := fmt.Sprintf("%s,%s,%s,%q\n", token, adminUser, adminUser, adminGroup)
	err = writeFiles(map[string][]byte{
		creds.tokenFile:             []byte(tokenLine),
		creds.serviceAccountKeyFile: encodePEM("EC PRIVATE KEY", saKeyDER),
	})
	if err != nil {
		return nil, err
	}
	return creds, nil
}
