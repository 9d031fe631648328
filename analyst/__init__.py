"""The analyst's side: queries on the published marts, table formats, the HTML report, and
`frame()`, a mart table as a pandas DataFrame for notebooks."""


def frame(table: str, **kwargs):
    """See `analyst.frames.frame`; pandas loads only when this is called (`atp` starts fast)."""
    from analyst.frames import frame as mart_frame

    return mart_frame(table, **kwargs)
