using System.Security.Cryptography;
using System.Text;

namespace SdBlazor.Web.Sharing.Accounts;

/// <summary>
/// First run: until an owner password exists, nobody but this machine's browser may use the app, and the setup
/// page accepts either a local browser or the one-time token printed to the console log (for headless machines).
/// </summary>
public sealed class SetupGate(AccountStore accounts, ILogger<SetupGate> logger)
{
    private string? _token;

    public bool SetupDone => accounts.HasOwner();

    /// <summary>Creates and logs the token once per process, while no owner exists.</summary>
    public void AnnounceIfNeeded(IEnumerable<string> addresses)
    {
        if (SetupDone) return;
        _token ??= SecretTokens.New();
        var where = string.Join(" or ", addresses.Select(a => $"{a.TrimEnd('/')}/setup?token={_token}"));
        logger.LogWarning("No owner password yet. Open {SetupUrls} to set one (the token works once). " +
            "Until then only this computer's browser can use SdBlazor, and LAN mode stays off.", where);
    }

    public bool IsValidToken(string? token)
    {
        var expected = _token;
        return expected is not null && token is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(token));
    }

    public bool MaySetUp(HttpContext http, string? token) => !SetupDone && (LocalRequests.IsLocal(http) || IsValidToken(token));

    public void Consume() => _token = null;
}
