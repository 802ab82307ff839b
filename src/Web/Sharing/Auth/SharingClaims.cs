using System.Security.Claims;
using SdBlazor.Web.Sharing.Accounts;

namespace SdBlazor.Web.Sharing.Auth;

public static class SharingClaims
{
    /// <summary>Marks the owner recognised by being on this machine (no cookie, nothing to log out of).</summary>
    public const string LocalOwnerType = "sdblazor:local-owner";

    /// <summary>The login session (see <see cref="LoginSessions"/>) a cookie belongs to.</summary>
    public const string SessionType = "sdblazor:session";

    /// <summary>
    /// The account id of the local owner before an owner account exists. Not a possible user name ('@'), so that no
    /// member can ever be taken for the owner, nor manage what the owner made then.
    /// </summary>
    public const string OwnerWithoutAccountId = "@owner";

    public static ClaimsPrincipal For(Account account, string authenticationType, string? session = null) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, account.Id),
        new Claim(ClaimTypes.Name, account.UserName),
        new Claim(ClaimTypes.Role, account.Role.ToString()),
        .. session is null ? Array.Empty<Claim>() : [new Claim(SessionType, session)],
    ], authenticationType));

    public static ClaimsPrincipal LocalOwner(string? ownerName) => new(new ClaimsIdentity(
    [
        new Claim(ClaimTypes.NameIdentifier, ownerName is null ? OwnerWithoutAccountId : AccountStore.Normalize(ownerName)),
        new Claim(ClaimTypes.Name, ownerName ?? "owner"),
        new Claim(ClaimTypes.Role, nameof(SharingRole.Owner)),
        new Claim(LocalOwnerType, "true"),
    ], SharingAuthentication.LoopbackScheme));

    public static bool IsLocalOwner(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == LocalOwnerType);

    public static string? SessionToken(this ClaimsPrincipal user) => user.FindFirstValue(SessionType);

    public static string AccountId(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";

    /// <summary>
    /// Whose jobs and images this caller sees: everything for the owner (local or logged in), else only the
    /// account's own. Anyone without an account id gets a scope that matches nothing.
    /// </summary>
    public static AccountScope Scope(this ClaimsPrincipal user) =>
        user.Role() == SharingRole.Owner ? AccountScope.Everything : AccountScope.Member(user.AccountId());

    public static SharingRole? Role(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && Enum.TryParse<SharingRole>(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;
}
