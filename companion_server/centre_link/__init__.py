"""The administrators' page of the company's link to an outside receiving centre (SIA DC-09)."""
