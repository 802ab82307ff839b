using MudBlazor;

namespace SdBlazor.Web.Components.Layout;

/// <summary>
/// MudBlazor's palettes with text contrast raised to WCAG AA (4.5:1), as axe-core checks (issue 33 item 17): the
/// defaults draw labels, helper texts and the drawer at half-opacity white and the active link in a primary that
/// is too dark on the dark theme's backgrounds.
/// </summary>
public static class AppTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteDark = new PaletteDark
        {
            Primary = "#a79ff7",
            PrimaryContrastText = "#16161f",
            TextSecondary = "rgba(255,255,255,0.74)",
            DrawerText = "rgba(255,255,255,0.80)",
            DrawerIcon = "rgba(255,255,255,0.80)",
            ActionDefault = "#c4c4c8",
            // Status colours are text too (alerts, "Delete" buttons): light tints on the dark surfaces, dark text on them when filled.
            Error = "#ff8f99",
            ErrorContrastText = "#1a1a1a",
            Warning = "#ffb547",
            WarningContrastText = "#1a1a1a",
            Info = "#7cc4ff",
            InfoContrastText = "#1a1a1a",
            Success = "#6fdc8c",
            SuccessContrastText = "#1a1a1a",
        },
        PaletteLight = new PaletteLight
        {
            TextSecondary = "rgba(0,0,0,0.70)",
            DrawerText = "rgba(0,0,0,0.82)",
            DrawerIcon = "rgba(0,0,0,0.70)",
            Error = "#c62828",
            Warning = "#9a4f00",
            Info = "#0b5cad",
            Success = "#1b6e34",
        },
    };
}
