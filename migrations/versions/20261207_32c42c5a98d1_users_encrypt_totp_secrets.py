"""users: encrypt the TOTP secrets with a key kept outside the database.

users.totp_secret held the base32 secret in plain text: whoever had a copy of the database or
a backup could produce every user's codes. It becomes users.totp_secret_encrypted, the secret
encrypted with Fernet under TOTP_KEY (SAMENOP_TOTP_KEY, or instance/totp_key: read as the app
reads it, registry.core.config.totp_key; `samenop init` passes the app's own key).

Upgrade: widen and rename the column, encrypt every secret. Downgrade: decrypt every secret
with the same key (a wrong key stops the downgrade, nothing changed), rename and narrow back.

Revision ID: 32c42c5a98d1
Revises: 366b05e3eeb6
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken


revision: str = '32c42c5a98d1'
down_revision: str | None = '366b05e3eeb6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fernet() -> Fernet:
    key = op.get_context().config.attributes.get("totp_key")
    if not key:
        from registry.core.config import totp_key

        key = totp_key()
    return Fernet(key.encode("ascii"))


def _convert(column: str, change: Callable[[str], str]) -> None:
    """Rewrite every non-null secret in `column`, row by row (users are few)."""
    users = sa.table('users', sa.column('id', sa.Integer()), sa.column(column, sa.String()))
    bind = op.get_bind()
    rows = bind.execute(sa.select(users.c.id, users.c[column]).where(users.c[column].is_not(None))).all()
    for user_id, value in rows:
        bind.execute(users.update().where(users.c.id == user_id).values({column: change(value)}))


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', new_column_name='totp_secret_encrypted',
                              existing_type=sa.String(length=64), type_=sa.String(length=255),
                              existing_nullable=True)
    if op.get_bind().execute(sa.text("SELECT 1 FROM users WHERE totp_secret_encrypted IS NOT NULL")).first():
        fernet = _fernet()
        _convert('totp_secret_encrypted', lambda secret: fernet.encrypt(secret.encode('ascii')).decode('ascii'))


def downgrade() -> None:
    if op.get_bind().execute(sa.text("SELECT 1 FROM users WHERE totp_secret_encrypted IS NOT NULL")).first():
        fernet = _fernet()

        def decrypt(sealed: str) -> str:
            try:
                return fernet.decrypt(sealed.encode('ascii')).decode('ascii')
            except InvalidToken:
                raise RuntimeError(
                    "SAMENOP_TOTP_KEY (or instance/totp_key) does not decrypt the TOTP secrets: "
                    "downgrade with the key they were encrypted with"
                ) from None

        _convert('totp_secret_encrypted', decrypt)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret_encrypted', new_column_name='totp_secret',
                              existing_type=sa.String(length=255), type_=sa.String(length=64),
                              existing_nullable=True)
