// Public keys made by ssh-keygen (OpenSSH 9.2) and the fingerprints `ssh-keygen -l` printed for
// them; the private halves were thrown away.
enum KeyFixtures {
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMXDqU6NM2+IkNN8NGJpuQyftkQy/5UkPdJhONr7BJkS test-ed25519"
    static let ed25519Fingerprint = "SHA256:S7BFQUuBhtDwX1qWtQ+hg4homgCmx+DoZ/yjuHEhee0"
    static let ecdsa256 =
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIXyt6n/FKVrMJTstmZW7DR6TXiMYYapY8CFs9W5Vd4KldWRZbCdxobh7h0Ov1Q62/G8UZ5zW8FaA5cADY8ShAc= test-ecdsab256"
    static let ecdsa256Fingerprint = "SHA256:pyoXfxNbkR1xTRNPH2l7uhz6aC8MoV0ylSwT2pJCn/E"
    static let ecdsa384 =
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBASrtcELBl/sWaI9gdSkYTh8+mCcau484IuVgeECjIg4J1FYN1qQNgT7Fx/7BVWkN4Ts2OKeZ3AmnzPVF8cx5OK9NouIQ1i+oSo1/NB+ypHuZtKsLT7xgQj5yzMI77sbvA== test-ecdsab384"
    static let ecdsa384Fingerprint = "SHA256:bp6F1vnZHrduoHKEVw98TUq2WBGZ9YzyH2U5tycFgac"
    static let ecdsa521 =
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAEZL2jeosUT3S9nLT3K2DNeN8EcgPTNNAfBQlqNm+6KXRJMqsFOGxfpgFB9LAjyOwXIA04igJy8r0bZPeO/xiBWaQHcypS3TK9kfweEW2+HL8VsEcavNTFxW7NmJX0lyWMPFOI/z6dJboISWPYyL39XuKgkF4Jrh0Tobe6tHfMWkfuDiw== test-ecdsab521"
    static let ecdsa521Fingerprint = "SHA256:n3m7fMxNRc61k0ey1TaTi/TFphuu++VMhamMY+snank"
    static let rsa3072 =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDlaRnS3RZoXAjTB7zsEnE5+MEfItuKzqgDf+3xyZYpZZuZNs3lu4FKEfpdD7Yc035dQc5ENpX71P5FGHo/2Sml46TRRLm/1BMe8R241wAvqURQFR3i/mpHL2WRcHUU5/6qV5KbJj6UX6hTmi1pFATv0uL5CJPJzVvw8g3z2jm786TMJdBb7ovoaOLSs0VwzyuMvTmhePXQGLbS5VQxxFGhha9dVm+hgRyU09ilTYiLJMvElEgMo+e1PZKikvXAPIikWJYglPlcpbq4A98+1d6gL4JZhyNV+TisomfznVzWA4m62gTQ9f9rdZwmctrtF5LG/UdASAFcrhDvAfAsZGIH42DQ7hFSjbRwHVX1Zf73oGFlOHvZF+BABD+2cY97lNVVUVeozSKimzy1O15P/nsQRigV/pvu4MzwOguO5BrW1OcDy/js2+KC/t8CQA+vq0qaZE0d//hsiIoUWfWvO0JRiXQLky6ExVqCIQrB2L5fgU/RK54tIhKP2LvqRBhIPk0= test-rsab3072"
    static let rsa3072Fingerprint = "SHA256:D8Pz37f5pts0YFSdsyz1hBIoiPs6zQ9EGR95+RklPZM"
    static let rsa2048 =
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCgwe9dOBviAcZaXB5WjmTK23tJh3kbDzX2RchBSfyUbtkyLrZrLsJD71ObRSgY+GUhdfpw+JZvRBKEbMUFaVOXmGt+7gaR5gry9n4iu+514IH+FF0jsVZ0nsSNTNXbpCk8ymhBuspmNp8FcvU49PgOYlJNrUalZLZRJkSyEPo8oZ6X098K6zJa3Nexz8q+7VqzvJJcirsH0FSNiUaO3OOEJc3MhpFwNvxnCtwnzXemwJKGmn6y18Jq3CuoMB6Q3nlK5qaAhgW8KmqUz6wev3buks0E/bDJX4SCL475VDeITohctVxQ072fTSbWnQ7Q9s+CaN4FKdlNdwMG6RbgoRR3 test-rsab2048"
    static let dsa =
        "ssh-dss AAAAB3NzaC1kc3MAAACBAL4PAG8VgghUWEz4Nx45YjUywnppDaJxhwwLk7QmuXXJqnbbl9VX6U4SVuobE2MWcPFHx4HoLYkjbOBTKk6324yZt+XLRRESwd1Mq7mHuFcC1Y3yrjqF6JyOyGPu9SAKuN8N1CuM8/X/crtRhF58Yvbuso9pjgEB5iJPFPjcVJQTAAAAFQCleCwz47OpSr+Qmzr5gZZ3wiLoJwAAAIEAqCwPmCh7g0D6X3af4W7FM4E8Qr5strdAYV59BlFq574U9XZwpKVWbF9YAYYu3dY/mDhbwZlifqiL4BXvgHWkAviJf/HJiymbK+vdl0DNj93ewES80i+nzRGqmlZGod2C9C2pB7aIavDiY5lRzWuUE/lpHd6H42ZEsG41s5Kh6yMAAACAW5ey2hi1jQ7C4lCYYdGBXeggTPhmtGa7tnZzob+rq6VaU5sLKnAdO+c79FHxHOBCyvl5vYp/UsYZ9UqO/yEinPBf9KzddwY6gW1MDmyvUWAh/BaJ8Nj73dwqeSrZSlX9HSK+4ImyaH7Nv/swSIFN6YYmiWYBzrxfk9I0bBWeMmg= test-dsa"
}
