// expect: none
// Mongoose: Model.create, findOneAndUpdate, updateOne and doc.save() are writes; reads sit between them.
interface Query<T> extends PromiseLike<T> { lean(): Query<T> }
interface Models {
  Order: { create(doc: { user: string; items: string[] }): Promise<{ id: string }> }
  Cart: { findOneAndUpdate(filter: { user: string }, update: { items: string[] }): Query<unknown> }
  Product: { updateOne(filter: { sku: string }, update: { $inc: { stock: number } }): Query<unknown> }
  User: { findById(id: string): Query<{ email: string } | null> }
  Coupon: { findOne(filter: { code: string }): Query<{ percent: number } | null> }
}
interface Receipt { save(): Promise<Receipt> }

export async function placeOrder(models: Models, receipt: Receipt, user: string, sku: string, code: string) {
  const { Order, Cart, Product, User, Coupon } = models
  const buyer = await User.findById(user).lean()
  const order = await Order.create({ user, items: [sku] })
  const coupon = await Coupon.findOne({ code }).lean()
  const cart = await Cart.findOneAndUpdate({ user }, { items: [] })
  const stock = await Product.updateOne({ sku }, { $inc: { stock: -1 } })
  const saved = await receipt.save()
  return { buyer, order, coupon, cart, stock, saved }
}
