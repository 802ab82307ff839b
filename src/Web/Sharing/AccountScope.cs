namespace SdBlazor.Web.Sharing;

/// <summary>
/// Whose jobs and gallery images a caller may see and act on: the owner sees everything, a member only what their
/// account made. Items record their account as a string that is <c>null</c> for the owner's: the owner's own jobs
/// and images, and every job or image from before items had an account, belong to the owner.
/// </summary>
public sealed record AccountScope
{
    private AccountScope(string? account) => Account = account;

    /// <summary>The owner's view: every account's items.</summary>
    public static AccountScope Everything { get; } = new((string?)null);

    /// <summary>One member's view. An empty id (a caller without an account) sees nothing.</summary>
    public static AccountScope Member(string accountId) => new(accountId ?? "");

    /// <summary>The member account this scope is limited to; null for the owner (everything).</summary>
    public string? Account { get; }

    public bool SeesAll => Account is null;

    /// <summary>Whether an item recorded with <paramref name="itemAccount"/> (null: the owner's) is visible.</summary>
    public bool Sees(string? itemAccount) => Account is null || (itemAccount is not null && itemAccount == Account);

    /// <summary>The account recorded on items this caller creates: null for the owner, else the member's id.</summary>
    public string? AccountForNewItems => Account;
}
