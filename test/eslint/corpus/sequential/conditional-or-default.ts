// expect: 1 report, suggestion only
// `cookieLocale || (await getAccountLocale(id))`: the account is read only without a cookie; the
// element keeps the `||`.
interface Accounts { getAccountLocale(userId: string): Promise<string> }
interface Catalog { getCurrencies(): Promise<string[]> }

export async function checkoutContext(
  accounts: Accounts,
  catalog: Catalog,
  userId: string,
  cookieLocale: string | undefined,
) {
  const locale = cookieLocale || (await accounts.getAccountLocale(userId))
  const currencies = await catalog.getCurrencies()
  return { locale, currencies }
}
