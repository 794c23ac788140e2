from policy.cli import run

run()
