"""Real-time alerts: AWS Config compliance changes and monitoring problems, formatted for people."""
