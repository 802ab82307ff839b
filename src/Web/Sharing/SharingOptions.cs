using System.ComponentModel.DataAnnotations;

namespace SdBlazor.Web.Sharing;

/// <summary>Section <c>Sharing</c>: who may reach the app and how.</summary>
public sealed class SharingOptions
{
    public const string Section = "Sharing";

    /// <summary>Listen on every interface (also the <c>--lan</c> switch). Stays gated until an owner password exists.</summary>
    public bool LanMode { get; set; }

    /// <summary>When false (default) a browser on this machine is the owner without logging in.</summary>
    public bool RequireLoginOnLoopback { get; set; }

    /// <summary>HTTP port used when no <c>--urls</c>/<c>ASPNETCORE_URLS</c> is given.</summary>
    [Range(1, 65535)] public int Port { get; set; } = 5080;

    /// <summary>In LAN mode, also serve HTTPS with a self-signed certificate kept in the data folder.</summary>
    public bool Https { get; set; }

    [Range(1, 65535)] public int HttpsPort { get; set; } = 5443;

    /// <summary>Wrong passwords in a row for one user name before each further one locks it (see <see cref="LoginDelaySeconds"/>).</summary>
    [Range(1, 100)] public int MaxFailedLogins { get; set; } = 5;

    /// <summary>The first lock after <see cref="MaxFailedLogins"/>; each further wrong password doubles it, up to <see cref="LockoutMinutes"/>.</summary>
    [Range(1, 3600)] public int LoginDelaySeconds { get; set; } = 30;

    [Range(1, 24 * 60)] public int LockoutMinutes { get; set; } = 15;

    /// <summary>Wrong PINs in a row for one share link (from any address) before each further one locks the link (see <see cref="PinDelaySeconds"/>).</summary>
    [Range(1, 1000)] public int MaxWrongPins { get; set; } = 5;

    /// <summary>The first PIN lock; each further wrong PIN doubles it, up to a day.</summary>
    [Range(1, 24 * 3600)] public int PinDelaySeconds { get; set; } = 60;

    /// <summary>Login attempts per client address per minute (the rate limiter answers 429 beyond that).</summary>
    [Range(1, 1000)] public int LoginAttemptsPerMinute { get; set; } = 10;

    /// <summary>Generation requests per signed-in user (or address) per minute.</summary>
    [Range(1, 10000)] public int GenerationsPerMinute { get; set; } = 60;

    [Range(1, 10000)] public int UploadsPerMinute { get; set; } = 60;

    /// <summary>Largest request body Kestrel accepts at all (the A1111 API and uploads have their own smaller limits).</summary>
    [Range(1024, long.MaxValue)] public long MaxRequestBodyBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How often an open page re-checks that its login still stands (logged out elsewhere, password changed).</summary>
    [Range(1, 3600)] public int SessionRevalidationSeconds { get; set; } = 30;

    /// <summary>How long a login cookie lasts (sliding).</summary>
    [Range(1, 365)] public int LoginDays { get; set; } = 14;
}
