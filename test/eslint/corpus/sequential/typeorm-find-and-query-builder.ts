// expect: fix
// TypeORM: findOneBy, getRepository(Entity).find() and createQueryBuilder().where().getOne() are reads.
interface Entity { readonly name: string }
interface Repo<T> {
  findOneBy(where: { [field: string]: string }): Promise<T | null>
  find(options: { where: { [field: string]: string } }): Promise<T[]>
  createQueryBuilder(alias: string): { where(sql: string, params: { id: string }): { getOne(): Promise<T | null> } }
}
interface DataSource { getRepository(entity: Entity): Repo<{ id: string }> }

interface Repos { invoices: Repo<{ total: number }>; customers: Repo<{ email: string }> }

export async function invoiceView(dataSource: DataSource, { invoices, customers }: Repos, Payment: Entity, id: string) {
  const invoice = await invoices.findOneBy({ id })
  const payments = await dataSource.getRepository(Payment).find({ where: { invoiceId: id } })
  const customer = await customers.createQueryBuilder('c').where('c.invoiceId = :id', { id }).getOne()
  return { invoice, payments, customer }
}
