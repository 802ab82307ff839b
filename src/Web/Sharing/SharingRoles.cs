namespace SdBlazor.Web.Sharing;

public enum SharingRole
{
    Viewer = 0,
    Member = 1,
    Owner = 2,
}

/// <summary>Authorization policy names. Every endpoint, page and hub method names one of these (or AllowAnonymous).</summary>
public static class SharingPolicies
{
    /// <summary>Settings, accounts, deleting, maintenance.</summary>
    public const string Owner = "sharing:owner";

    /// <summary>Generate, browse and import into the gallery, create shares.</summary>
    public const string Member = "sharing:member";

    /// <summary>Any signed-in account: read-only pages listing what is shared.</summary>
    public const string Viewer = "sharing:viewer";
}
