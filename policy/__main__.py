from policy.cli import app

app()
