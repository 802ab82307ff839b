namespace SdBlazor.Web.Sharing.Accounts;

public sealed class Account
{
    /// <summary>The user name, lower-cased: names are case-insensitive.</summary>
    public string Id { get; set; } = "";
    public string UserName { get; set; } = "";
    public SharingRole Role { get; set; }

    /// <summary>ASP.NET Core Identity's PBKDF2 hash format; never the password.</summary>
    public string PasswordHash { get; set; } = "";
    public DateTime CreatedUtc { get; set; }

    /// <summary>Set by the owner: this account's requests are not rate limited.</summary>
    public bool Trusted { get; set; }
    public DateTime? LastLoginUtc { get; set; }
}

/// <summary>An invite link: whoever opens it before it expires may create one account with <see cref="Role"/>.</summary>
public sealed class Invite
{
    /// <summary>SHA-256 of the token (hex): the token itself is only ever in the link.</summary>
    public string TokenHash { get; set; } = "";
    public SharingRole Role { get; set; }
    public DateTime CreatedUtc { get; set; }
    public DateTime ExpiresUtc { get; set; }
    public string CreatedBy { get; set; } = "";
    public string? UsedBy { get; set; }
}
