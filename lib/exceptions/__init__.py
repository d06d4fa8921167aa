"""The exceptions register: approved, time-limited risk acceptances, kept as reviewed code in
``exceptions.yaml``, validated at synth (``register.py``, ``source.py``) and deployed to the functions
as a Lambda layer and to the reports bucket as a content-addressed object (``infrastructure.py``)."""
